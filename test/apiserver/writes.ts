// Writes: create, update (PUT), patch (all four content types), delete, each through the same
// admission pipeline the real server runs: system metadata, status-subresource rules, strategy,
// schema (prune → default → validate), generation, managedFields, no-op detection, finalizers.
import { randomUUID } from "node:crypto";
import yaml from "js-yaml";
import {
  alreadyExists, ApiError, badRequest, conflict, invalid, notFound, STALE_OBJECT, unsupportedMediaType, type StatusCause,
} from "./errors.ts";
import { serverSideApply, trackUpdate, type Scope } from "./fields.ts";
import { deepEqual, jsonPatch, mergePatch, PATCH_TYPES } from "./patch.ts";
import { decodeProtobufObject, PROTOBUF } from "./protobuf.ts";
import { apiVersionOf, type KObject, type ResourceType } from "./resources.ts";
import type { ObjectStore } from "./store.ts";

export interface WriteRequest {
  type: ResourceType;
  /** The request's namespace for a namespaced type, undefined for a cluster-scoped one. */
  namespace?: string;
  name?: string;
  subresource?: "status";
  query: URLSearchParams;
  contentType: string;
  userAgent: string;
  body: Buffer;
}

export interface Reply {
  code: number;
  body: unknown;
}

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** metav1.Time: RFC 3339 in whole seconds. */
export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

export function view(type: ResourceType, stored: KObject): KObject {
  const shown = type.toView ? type.toView(stored) : structuredClone(stored);
  return { ...shown, apiVersion: apiVersionOf(type), kind: type.kind };
}

function parseBody(w: WriteRequest, asYaml = false): KObject {
  // kubectl's typed commands (`kubectl create namespace|secret|configmap`) send protobuf: decoded
  // for those types (protobuf.ts); any other protobuf or CBOR body is a 415.
  if (!asYaml && w.contentType.startsWith(PROTOBUF)) return decodeProtobufObject(w.body, w.type.kind);
  if (/protobuf|cbor/.test(w.contentType)) throw unsupportedMediaType(["application/json", "application/yaml"]);
  let parsed: unknown;
  try {
    const text = w.body.toString("utf8");
    parsed = asYaml || /yaml/.test(w.contentType) ? yaml.load(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding request body: ${(e as Error).message}`);
  }
  if (!isMap(parsed)) throw badRequest("the request body is not an object");
  return parsed as KObject;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function nameCauses(type: ResourceType, name: string): StatusCause[] {
  const label = type.plural === "namespaces";
  if (label ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253) return [];
  const what = label
    ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  return [{ reason: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "${name}": ${what}` }];
}

function fieldManager(w: WriteRequest): string {
  return w.query.get("fieldManager") || w.userAgent.split("/")[0] || "unknown";
}

const isDryRun = (w: WriteRequest) => w.query.getAll("dryRun").includes("All");

/** Type-specific normalising, then every validation; throws 422 with all causes. */
function admit(w: WriteRequest, stored: KObject, old: KObject | undefined): void {
  w.type.strategy?.prepare?.(stored, old);
  const causes = [
    ...(old ? [] : nameCauses(w.type, stored.metadata.name ?? "")),
    ...(w.type.schema?.admit(stored, old) ?? []),
    ...(w.type.strategy?.validate?.(stored, old) ?? []),
  ];
  if (causes.length) throw invalid(w.type.kind, w.type.group, stored.metadata.name ?? "", causes);
}

function checkIdentity(w: WriteRequest, obj: KObject): void {
  // Custom resources are decoded as unstructured objects, which must say what they are; built-in
  // types are decoded into their Go type, which fills apiVersion and kind from the URL.
  if (w.type.custom && (!obj.kind || !obj.apiVersion)) {
    throw badRequest(`Object '${obj.kind ? "apiVersion" : "Kind"}' is missing in '${JSON.stringify(obj)}'`);
  }
  if (obj.kind !== undefined && obj.kind !== w.type.kind) {
    throw badRequest(`the kind in the body (${obj.kind}) does not match the kind of the resource (${w.type.kind})`);
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(w.type)) {
    throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(w.type)})`);
  }
  obj.metadata = isMap(obj.metadata) ? obj.metadata : {};
  if (w.type.namespaced) {
    if (obj.metadata.namespace && obj.metadata.namespace !== w.namespace) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    obj.metadata.namespace = w.namespace;
  } else delete obj.metadata.namespace;
}

const GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function create(store: ObjectStore, w: WriteRequest, given?: KObject, managedByApply = false): Reply {
  const obj = given ?? parseBody(w);
  checkIdentity(w, obj);
  const meta = obj.metadata;
  if (!meta.name && meta.generateName) {
    meta.name = meta.generateName + Array.from({ length: 5 }, () => GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)]).join("");
  }
  if (!meta.name) {
    throw invalid(w.type.kind, w.type.group, "", [{ reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" }]);
  }
  if (meta.resourceVersion) throw new ApiError(500, "", "resourceVersion should not be set on objects to be created");
  if (w.type.namespaced && !store.get("/namespaces", undefined, w.namespace!)) throw notFound({ group: "", plural: "namespaces" }, w.namespace!);
  if (store.get(w.type.storageKey, w.namespace, meta.name)) throw alreadyExists(w.type, meta.name);

  meta.uid = randomUUID();
  meta.creationTimestamp = now();
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (w.type.hasGeneration) meta.generation = 1;
  else delete meta.generation;
  if (w.type.statusSubresource) delete obj.status;
  const stored = w.type.fromView ? w.type.fromView(obj) : obj;
  admit(w, stored, undefined);
  if (!managedByApply) {
    stored.metadata.managedFields = [];
    trackUpdate(undefined, stored, fieldManager(w), apiVersionOf(w.type), { statusSubresource: w.type.statusSubresource }, now());
  }
  if (isDryRun(w)) return { code: 201, body: view(w.type, stored) };
  const written = store.write("ADDED", w.type.storageKey, stored);
  w.type.strategy?.afterWrite?.(written, "ADDED");
  return { code: 201, body: view(w.type, written) };
}

function scopeOf(w: WriteRequest): Scope {
  return { subresource: w.subresource, statusSubresource: w.type.statusSubresource };
}

const withoutTimes = (o: KObject) => ({ ...o, metadata: { ...o.metadata, managedFields: o.metadata.managedFields?.map((e) => ({ ...e, time: "" })) } });

/** Everything but metadata and status: what a change of bumps metadata.generation. */
function specPart(o: KObject): Json {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/** The shared tail of PUT and PATCH: `candidate` is the full object the client wants, in its version's form. */
function update(store: ObjectStore, w: WriteRequest, old: KObject, candidate: KObject, managedByApply: boolean): Reply {
  const name = old.metadata.name!;
  if (candidate.metadata.name !== name) {
    throw badRequest(`the name of the object (${candidate.metadata.name ?? ""}) does not match the name on the URL (${name})`);
  }
  checkIdentity(w, candidate);
  const given = w.type.fromView ? w.type.fromView(candidate) : candidate;
  let next: KObject;
  if (w.subresource === "status") {
    // The status subresource writes .status and nothing else.
    next = structuredClone(old);
    if (given.status === undefined) delete next.status;
    else next.status = given.status;
    if (managedByApply) next.metadata.managedFields = given.metadata.managedFields;
  } else {
    next = given;
    if (w.type.statusSubresource) {
      if (old.status === undefined) delete next.status;
      else next.status = structuredClone(old.status);
    }
    for (const field of ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const) {
      if (old.metadata[field] === undefined) delete next.metadata[field];
      else (next.metadata as Record<string, unknown>)[field] = old.metadata[field];
    }
    if (!managedByApply) next.metadata.managedFields = old.metadata.managedFields;
    const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
    if (old.metadata.deletionTimestamp && added.length) {
      throw invalid(w.type.kind, w.type.group, name, [{
        reason: "FieldValueForbidden",
        field: "metadata.finalizers",
        message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
      }]);
    }
  }
  next.metadata.resourceVersion = old.metadata.resourceVersion;
  admit(w, next, old);
  if (w.type.hasGeneration && !deepEqual(specPart(next), specPart(old))) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
  if (!managedByApply) trackUpdate(old, next, fieldManager(w), apiVersionOf(w.type), scopeOf(w), now());
  if (next.metadata.finalizers?.length === 0) delete next.metadata.finalizers;

  // A write that changes nothing is not a write: no new resourceVersion, no watch event.
  if (deepEqual(withoutTimes(next), withoutTimes(old))) return { code: 200, body: view(w.type, old) };
  if (isDryRun(w)) return { code: 200, body: view(w.type, next) };
  // The last finalizer gone from an object being deleted: it is deleted now.
  const finished = next.metadata.deletionTimestamp && !next.metadata.finalizers?.length;
  const written = store.write(finished ? "DELETED" : "MODIFIED", w.type.storageKey, next, old);
  w.type.strategy?.afterWrite?.(written, finished ? "DELETED" : "MODIFIED");
  return { code: 200, body: view(w.type, written) };
}

function existing(store: ObjectStore, w: WriteRequest): KObject | undefined {
  return store.get(w.type.storageKey, w.namespace, w.name!);
}

export function replace(store: ObjectStore, w: WriteRequest): Reply {
  const candidate = parseBody(w);
  if (!isMap(candidate.metadata)) candidate.metadata = {};
  if (candidate.metadata.name !== w.name) {
    throw badRequest(`the name of the object (${candidate.metadata.name ?? ""}) does not match the name on the URL (${w.name})`);
  }
  const old = existing(store, w);
  if (!old) {
    if (!w.type.allowCreateOnUpdate || w.subresource) throw notFound(w.type, w.name!);
    delete candidate.metadata.resourceVersion;
    return create(store, w, candidate);
  }
  const rv = candidate.metadata.resourceVersion;
  if (!rv && !w.type.allowUnconditionalUpdate) {
    throw invalid(w.type.kind, w.type.group, w.name!, [{ reason: "FieldValueInvalid", field: "metadata.resourceVersion", message: "Invalid value: 0x0: must be specified for an update" }]);
  }
  if (rv && rv !== old.metadata.resourceVersion) throw conflict(w.type, w.name!, STALE_OBJECT);
  const uid = candidate.metadata.uid;
  if (uid && uid !== old.metadata.uid) {
    throw conflict(w.type, w.name!, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`);
  }
  return update(store, w, old, candidate, false);
}

export function patch(store: ObjectStore, w: WriteRequest): Reply {
  const contentType = w.contentType.split(";")[0].trim();
  const accepted = Object.values(PATCH_TYPES) as string[];
  if (!accepted.includes(contentType)) throw unsupportedMediaType(accepted);
  const old = existing(store, w);
  const scope = scopeOf(w);
  if (contentType === PATCH_TYPES.apply) {
    const manager = w.query.get("fieldManager");
    if (!manager) {
      throw invalid("PatchOptions", "meta.k8s.io", "", [{ reason: "FieldValueRequired", field: "fieldManager", message: "Required value: is required for apply patch" }]);
    }
    const applied = parseBody(w, true);
    if (!applied.apiVersion || !applied.kind) throw badRequest("error decoding YAML: Object 'Kind' is missing or apiVersion is not set");
    if (!isMap(applied.metadata) || applied.metadata.name !== w.name) {
      throw badRequest(`the name of the object (${String((applied.metadata as Json | undefined)?.name ?? "")}) does not match the name on the URL (${w.name})`);
    }
    const force = ["true", "1"].includes(w.query.get("force") ?? "");
    if (!old) {
      if (w.subresource) throw notFound(w.type, w.name!);
      const base: KObject = { apiVersion: applied.apiVersion, kind: applied.kind, metadata: { name: w.name, namespace: w.namespace, managedFields: [] } };
      return create(store, w, serverSideApply(base, applied, manager, force, apiVersionOf(w.type), scope, now()), true);
    }
    const rv = applied.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(w.type, w.name!, STALE_OBJECT);
    return update(store, w, old, serverSideApply(view(w.type, old), applied, manager, force, apiVersionOf(w.type), scope, now()), true);
  }
  if (!old) throw notFound(w.type, w.name!);
  let body: unknown;
  try {
    body = JSON.parse(w.body.toString("utf8"));
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  const current = view(w.type, old);
  const patched = (contentType === PATCH_TYPES.json ? jsonPatch(current, body) : mergePatch(current, body)) as KObject;
  if (!isMap(patched) || !isMap(patched.metadata)) throw badRequest("the patch removed the object's metadata");
  // A resourceVersion in the patch is a precondition, as on a PUT.
  const rv = patched.metadata.resourceVersion;
  if (rv && rv !== old.metadata.resourceVersion) throw conflict(w.type, w.name!, STALE_OBJECT);
  return update(store, w, old, patched, false);
}

function deleteOptions(w: WriteRequest): Json {
  const text = w.body.toString("utf8").trim();
  if (!text) return {};
  try {
    const parsed = JSON.parse(text);
    return isMap(parsed) ? parsed : {};
  } catch (e) {
    throw badRequest(`error decoding DeleteOptions: ${(e as Error).message}`);
  }
}

/**
 * Deletes one object. With finalizers it only gets a deletionTimestamp (and a generation bump) and
 * stays until an update empties them. Foreground/Orphan propagation add no finalizers: this server
 * runs no garbage collector that would ever remove them.
 */
export function remove(store: ObjectStore, w: WriteRequest, options: Json = deleteOptions(w)): Reply {
  const old = existing(store, w);
  if (!old) throw notFound(w.type, w.name!);
  const pre = isMap(options.preconditions) ? options.preconditions : {};
  if (pre.uid && pre.uid !== old.metadata.uid) {
    throw conflict(w.type, w.name!, `Precondition failed: UID in precondition: ${String(pre.uid)}, UID in object meta: ${old.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(w.type, w.name!, `Precondition failed: ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
  }
  const dryRun = isDryRun(w) || (Array.isArray(options.dryRun) && options.dryRun.includes("All"));
  if (old.metadata.finalizers?.length) {
    if (old.metadata.deletionTimestamp || dryRun) return { code: 200, body: view(w.type, old) };
    const marked = structuredClone(old);
    marked.metadata.deletionTimestamp = now();
    marked.metadata.deletionGracePeriodSeconds = 0;
    if ((marked.metadata.generation ?? 0) > 0) marked.metadata.generation! += 1;
    const written = store.write("MODIFIED", w.type.storageKey, marked, old);
    w.type.strategy?.afterWrite?.(written, "MODIFIED");
    return { code: 200, body: view(w.type, written) };
  }
  if (!dryRun) {
    const written = store.write("DELETED", w.type.storageKey, old);
    w.type.strategy?.afterWrite?.(written, "DELETED");
  }
  return {
    code: 200,
    body: {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: w.name, ...(w.type.group ? { group: w.type.group } : {}), kind: w.type.plural, uid: old.metadata.uid },
    },
  };
}
