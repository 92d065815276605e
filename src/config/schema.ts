// Schema validation against the CRDs in crds/ — the single source of truth for the configuration
// schema. The same openAPIV3Schema the Kubernetes API server enforces is compiled with ajv, and the
// Kubernetes extensions are given the API server's meaning so that `idsync validate` on a laptop
// rejects exactly what `kubectl apply` would:
//   - `default`s are applied into the resource (ajv useDefaults), as the API server does on write;
//   - unknown fields are errors (kubectl's strict field validation), except under
//     x-kubernetes-preserve-unknown-fields;
//   - x-kubernetes-validations (CEL rules) are evaluated with the same CEL library the engine uses;
//   - x-kubernetes-list-type set/map reject duplicate items / duplicate keys.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import yaml from "js-yaml";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import { API_VERSION, type AnyResource, type ConfigError } from "./model.ts";
import { resourceError } from "./errors.ts";
import { formatPath, parsePath, type PathSegment } from "./positions.ts";
import { MAX_ERRORS_PER_RESOURCE } from "./limits.ts";

export type JsonSchema = Record<string, unknown>;

/** The parts of a CustomResourceDefinition this package reads. */
export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    scope: "Namespaced" | "Cluster";
    names: { kind: string; listKind?: string; plural: string; singular?: string; shortNames?: string[]; categories?: string[] };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchema };
      subresources?: { status?: Record<string, never> };
      additionalPrinterColumns?: Array<{ name: string; type: string; jsonPath: string; description?: string }>;
    }>;
  };
}

/** The directory holding the CRD YAML files, resolved from this source file. */
export const CRD_DIRECTORY = fileURLToPath(new URL("../../crds/", import.meta.url));

let crdsByKind: Map<string, CustomResourceDefinition> | undefined;

/** Every CRD in crds/, keyed by the kind it defines. */
export function loadCrds(): Map<string, CustomResourceDefinition> {
  if (!crdsByKind) {
    crdsByKind = new Map();
    for (const file of readdirSync(CRD_DIRECTORY).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      for (const doc of yaml.loadAll(readFileSync(join(CRD_DIRECTORY, file), "utf8"))) {
        const crd = doc as CustomResourceDefinition | null;
        if (crd?.kind === "CustomResourceDefinition") crdsByKind.set(crd.spec.names.kind, crd);
      }
    }
  }
  return crdsByKind;
}

/** The CRD that defines `kind`, or undefined for a kind idsync does not have. */
export function crdFor(kind: string): CustomResourceDefinition | undefined {
  return loadCrds().get(kind);
}

// ---------------------------------------------------------------- ajv with Kubernetes semantics

const celEnvironment = celEnv({});

interface KubeRule {
  rule: string;
  message?: string;
  fieldPath?: string;
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
  addFormatsModule.default(ajv);
  for (const keyword of [
    "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-map-type",
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({
    keyword: "x-kubernetes-validations",
    schemaType: "array",
    // After every other keyword of the node, so nested defaults are in place as on the API server.
    post: true,
    errors: true,
    compile(rules: KubeRule[]) {
      const programs = rules.map((r) => {
        try {
          return { ...r, run: plan(celEnvironment, parse(r.rule)) as unknown as (ctx: Record<string, unknown>) => unknown };
        } catch (e) {
          throw new Error(`CRD validation rule ${JSON.stringify(r.rule)} does not compile: ${(e as Error).message}`);
        }
      });
      const validate = (data: unknown, context?: { instancePath?: string }): boolean => {
        const errors: Partial<ErrorObject>[] = [];
        for (const p of programs) {
          const result = p.run({ self: data });
          // A rule that cannot be evaluated (the node has the wrong shape) is left to the
          // type errors ajv reports for that node.
          if (isCelError(result) || result === true) continue;
          errors.push({ keyword: "x-kubernetes-validations", message: p.message ?? `failed rule: ${p.rule}`, params: { fieldPath: p.fieldPath, rule: p.rule, node: context?.instancePath ?? "" } });
        }
        (validate as unknown as { errors: Partial<ErrorObject>[] }).errors = errors;
        return errors.length === 0;
      };
      return validate;
    },
  });
  ajv.addKeyword({
    keyword: "x-kubernetes-list-type",
    type: "array",
    schemaType: "string",
    errors: true,
    compile(listType: string, parent: JsonSchema) {
      const keys = (parent["x-kubernetes-list-map-keys"] as string[] | undefined) ?? [];
      const validate = (data: unknown[]): boolean => {
        const errors: Partial<ErrorObject>[] = [];
        if (listType === "set" || listType === "map") {
          const seen = new Map<string, number>();
          data.forEach((item, i) => {
            const id =
              listType === "set"
                ? JSON.stringify(item)
                : JSON.stringify(keys.map((k) => (item as Record<string, unknown> | null)?.[k]));
            const first = seen.get(id);
            if (first === undefined) {
              seen.set(id, i);
              return;
            }
            const what = listType === "set" ? `${JSON.stringify(item)}` : keys.map((k) => `${k} ${JSON.stringify((item as Record<string, unknown>)[k])}`).join(", ");
            errors.push({
              keyword: "x-kubernetes-list-type",
              message: `duplicate entry ${what} (first at [${first}])`,
              params: { item: i, key: listType === "map" && keys.length === 1 ? keys[0] : undefined },
            });
          });
        }
        (validate as unknown as { errors: Partial<ErrorObject>[] }).errors = errors;
        return errors.length === 0;
      };
      return validate;
    },
  });
  return ajv;
}

/**
 * The API server rejects unknown fields under strict field validation (kubectl's default); ajv needs
 * that said explicitly: every object node that lists its properties and does not preserve unknown
 * fields gets additionalProperties: false.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (node === null || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === "default" || k === "enum" || k === "x-kubernetes-validations" ? v : closeObjects(v);
  }
  if (out.properties && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

let validators: Map<string, ValidateFunction> | undefined;

function validatorFor(kind: string): ValidateFunction | undefined {
  if (!validators) {
    const ajv = makeAjv();
    validators = new Map();
    for (const [k, crd] of loadCrds()) {
      const version = crd.spec.versions.find((v) => `${crd.spec.group}/${v.name}` === API_VERSION);
      if (version) validators.set(k, ajv.compile(closeObjects(version.schema.openAPIV3Schema) as JsonSchema));
    }
  }
  return validators.get(kind);
}

// ---------------------------------------------------------------- validation

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Validates one resource against its CRD's schema and applies the schema's defaults into it (in
 * place, as the API server would). Returns every problem found; an empty list means valid.
 */
export function validateAgainstCrd(resource: AnyResource): ConfigError[] {
  const errors: ConfigError[] = [];
  const r = resource as unknown as Record<string, unknown>;
  if (r.apiVersion !== API_VERSION) {
    errors.push(resourceError(resource, "apiVersion", `apiVersion must be ${API_VERSION} (got ${JSON.stringify(r.apiVersion)})`));
  }
  const validate = validatorFor(String(r.kind));
  if (!validate) {
    errors.push(resourceError(resource, "kind", `unknown kind ${JSON.stringify(r.kind)} (idsync.dev has ManagementAgent, SyncRule, RetentionPolicy)`));
    return errors;
  }
  // Kubernetes allows no schema for metadata in a CRD; the API server checks the name itself.
  const metadata = r.metadata as Record<string, unknown> | undefined;
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    errors.push(resourceError(resource, "metadata", "metadata with a name is required"));
  } else if (typeof metadata.name !== "string" || metadata.name === "") {
    errors.push(resourceError(resource, "metadata.name", "metadata.name is required"));
  } else if (metadata.name.length > 253 || !DNS_SUBDOMAIN.test(metadata.name)) {
    errors.push(
      resourceError(resource, "metadata.name", `'${metadata.name}' is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`),
    );
  }
  // `source` is the loader's bookkeeping, not part of the resource. The shallow copy shares spec
  // with the resource, so defaults land in the original.
  const { source: _source, ...body } = r;
  if (!validate(body)) {
    const all = validate.errors ?? [];
    // A CEL rule is not judged on a node that already has a schema error (an enum typo in
    // connector.type would otherwise also fail "type csv requires csv"): one mistake, one error.
    // Every node at or above a schema error (a set: a hostile list may carry 100,000 of them).
    const aboveSchemaError = new Set<string>();
    for (const e of all) {
      if (e.keyword === "x-kubernetes-validations") continue;
      for (let p = e.instancePath; !aboveSchemaError.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) {
        aboveSchemaError.add(p);
        if (p === "") break;
      }
    }
    const shadowed = (e: ErrorObject) => e.keyword === "x-kubernetes-validations" && aboveSchemaError.has(String((e.params as { node?: string }).node ?? ""));
    const seen = new Set<string>();
    let more = 0;
    for (const err of all) {
      if (shadowed(err)) continue;
      const converted = convertAjvError(err);
      const key = `${converted.path}\u0000${converted.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // A list of 100,000 bad items is one mistake, not 100,000 lines to read.
      if (errors.length >= MAX_ERRORS_PER_RESOURCE) more++;
      else errors.push(resourceError(resource, converted.path, converted.message));
    }
    if (more > 0) errors.push(resourceError(resource, undefined, `and ${more} more schema error(s) in this resource`));
  }
  return errors;
}

const PATTERN_MEANING: Record<string, string> = {
  "^([0-9]+[smhdw])+$": "a duration such as 30s, 15m, 12h, 30d, 2w or 1h30m",
  "^\\s*\\S+(\\s+\\S+){4}\\s*$": "a five-field cron expression (minute hour day-of-month month day-of-week)",
  "^[A-Za-z_][A-Za-z0-9_]*$": "a name of letters, digits and _, starting with a letter or _",
  "^[A-Za-z_][A-Za-z0-9_-]*$": "a name of letters, digits, _ and -, starting with a letter or _",
  "^ldaps?://": "an ldap:// or ldaps:// URL",
};

function convertAjvError(err: ErrorObject): { path: string; message: string } {
  const segments: PathSegment[] = err.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const params = err.params as Record<string, unknown>;
  const got = (v: unknown) => (typeof v === "string" ? `'${v}'` : JSON.stringify(v));
  let message = err.message ?? "is invalid";
  switch (err.keyword) {
    case "required":
      segments.push(String(params.missingProperty));
      message = "is required";
      break;
    case "additionalProperties":
      segments.push(String(params.additionalProperty));
      message = `unknown field '${String(params.additionalProperty)}'`;
      break;
    case "enum":
      message = `${got(err.data)} is not one of: ${(params.allowedValues as unknown[]).join(", ")}`;
      break;
    case "type":
      message = `must be ${/^[aeiou]/.test(String(params.type)) ? "an" : "a"} ${String(params.type)} (got ${Array.isArray(err.data) ? "a list" : err.data === null ? "null" : typeof err.data})`;
      break;
    case "maxItems":
      message = `has ${Array.isArray(err.data) ? err.data.length : "too many"} items; at most ${String(params.limit)} are allowed`;
      break;
    case "pattern": {
      const meaning = PATTERN_MEANING[String(params.pattern)];
      message = `${got(err.data)} is not ${meaning ?? `matching the pattern ${String(params.pattern)}`}`;
      break;
    }
    case "x-kubernetes-validations":
      if (typeof params.fieldPath === "string") segments.push(...parsePath(params.fieldPath.replace(/^\./, "")));
      break;
    case "x-kubernetes-list-type":
      if (typeof params.item === "number") segments.push(params.item);
      if (typeof params.key === "string") segments.push(params.key);
      break;
  }
  return { path: formatPath(segments), message };
}
