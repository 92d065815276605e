// Resource requests: routes a parsed request to get / list / watch / create / update / patch /
// delete / deletecollection on its type, and serves the reads. Writes are in writes.ts.
import type { ServerResponse } from "node:http";
import { badRequest, methodNotAllowed, notFound, routeNotFound } from "./errors.ts";
import type { RequestInfo } from "./requestinfo.ts";
import type { KObject, ResourceRegistry, ResourceType } from "./resources.ts";
import { fieldSelector, labelSelector, type Matcher } from "./selectors.ts";
import { toTable, wantsTable } from "./table.ts";
import type { ObjectStore } from "./store.ts";
import type { WatchHub } from "./watch.ts";
import { create, patch, remove, replace, view, type Reply, type WriteRequest } from "./writes.ts";
import { apiVersionOf } from "./resources.ts";

export interface ServerState {
  store: ObjectStore;
  registry: ResourceRegistry;
  watches: WatchHub;
}

export interface ResourceCall {
  info: RequestInfo;
  query: URLSearchParams;
  contentType: string;
  userAgent: string;
  accept: string;
  body: Buffer;
}

/** The type a request addresses, or the 404 the real server gives for a path it does not route. */
export function resolveType(registry: ResourceRegistry, info: RequestInfo): ResourceType {
  const type = registry.find(info.apiGroup, info.apiVersion, info.resource);
  if (!type || info.tooDeep) throw routeNotFound();
  if (info.subresource !== undefined && (info.subresource !== "status" || !type.statusSubresource)) throw routeNotFound();
  // A namespaced type named without a namespace (other than to list across all) is not a route;
  // nor is a cluster-scoped type under a namespace (the Namespace itself aside).
  if (type.namespaced && info.namespace === undefined && info.name !== undefined) throw routeNotFound();
  if (!type.namespaced && info.namespace !== undefined && type.plural !== "namespaces") throw routeNotFound();
  return type;
}

function matcher(type: ResourceType, namespace: string | undefined, query: URLSearchParams, name?: string): Matcher {
  const labels = labelSelector(query.get("labelSelector"));
  const fields = fieldSelector(query.get("fieldSelector"), type.fieldSelectors);
  return (obj) =>
    (namespace === undefined || obj.metadata.namespace === namespace) &&
    (name === undefined || obj.metadata.name === name) &&
    labels(obj) &&
    fields(type.toView ? type.toView(obj) : obj);
}

function parseResourceVersion(value: string | null): number | undefined {
  if (value === null || value === "" || value === "0") return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid resource version: ${JSON.stringify(value)}`);
  return Number(value);
}

interface ContinueToken {
  rv: number;
  after: string;
}

function list(state: ServerState, type: ResourceType, namespace: string | undefined, query: URLSearchParams, table: boolean): Reply {
  const matches = matcher(type, namespace, query);
  let items = state.store.list(type.storageKey, namespace).filter(matches);
  const key = (o: KObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  let rv = state.store.currentRevision;
  const token = query.get("continue");
  if (token) {
    let parsed: ContinueToken;
    try {
      parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as ContinueToken;
    } catch {
      throw badRequest("continue key is not valid: illegal base64 data");
    }
    rv = parsed.rv;
    items = items.filter((o) => key(o) > parsed.after);
  }
  const limit = Number(query.get("limit") ?? 0);
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (limit > 0 && items.length > limit) {
    metadata.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
    metadata.continue = Buffer.from(JSON.stringify({ rv, after: key(items[items.length - 1]) })).toString("base64url");
  }
  if (table && type.printerColumns) {
    return { code: 200, body: toTable(items.map((o) => view(type, o)), type.printerColumns, metadata, query.get("includeObject")) };
  }
  return {
    code: 200,
    body: {
      kind: type.listKind,
      apiVersion: apiVersionOf(type),
      metadata,
      // Typed lists of built-in kinds carry no per-item apiVersion/kind on the wire; custom resource lists do.
      items: items.map((o) => {
        const shown = view(type, o);
        if (!type.custom) {
          delete shown.apiVersion;
          delete shown.kind;
        }
        return shown;
      }),
    },
  };
}

function watch(state: ServerState, res: ServerResponse, type: ResourceType, call: ResourceCall, namespace: string | undefined): void {
  const timeout = call.query.get("timeoutSeconds");
  state.watches.serve(res, {
    storageKey: type.storageKey,
    kind: type.kind,
    apiVersion: apiVersionOf(type),
    matches: matcher(type, namespace, call.query, call.info.name),
    view: (o) =>
      wantsTable(call.accept) && type.printerColumns
        ? toTable([view(type, o)], type.printerColumns, {}, call.query.get("includeObject"))
        : view(type, o),
    resumeAfter: parseResourceVersion(call.query.get("resourceVersion")),
    current: () => state.store.list(type.storageKey, namespace),
    bookmarks: ["true", "1"].includes(call.query.get("allowWatchBookmarks") ?? ""),
    timeoutSeconds: timeout ? Number(timeout) : undefined,
  });
}

/** Serves one resource request; returns the reply, or undefined when it streamed a watch itself. */
export function handleResource(state: ServerState, res: ServerResponse, call: ResourceCall): Reply | undefined {
  const { info } = call;
  const type = resolveType(state.registry, info);
  const namespace = type.namespaced ? info.namespace : undefined;
  const verbAllowed = info.subresource ? ["get", "update", "patch"].includes(info.verb) : type.verbs.includes(info.verb);
  if (!verbAllowed) throw methodNotAllowed();
  const w: WriteRequest = {
    type,
    namespace,
    name: info.name,
    subresource: info.subresource as "status" | undefined,
    query: call.query,
    contentType: call.contentType,
    userAgent: call.userAgent,
    body: call.body,
  };
  switch (info.verb) {
    case "get": {
      const obj = state.store.get(type.storageKey, namespace, info.name!);
      if (!obj) throw notFound(type, info.name!);
      if (wantsTable(call.accept) && type.printerColumns) {
        return { code: 200, body: toTable([view(type, obj)], type.printerColumns, { resourceVersion: obj.metadata.resourceVersion }, call.query.get("includeObject")) };
      }
      return { code: 200, body: view(type, obj) };
    }
    case "list":
      return list(state, type, namespace, call.query, wantsTable(call.accept));
    case "watch":
      watch(state, res, type, call, namespace);
      return undefined;
    case "create":
      if (info.name !== undefined) throw methodNotAllowed();
      return create(state.store, w);
    case "update":
      return replace(state.store, w);
    case "patch":
      return patch(state.store, w);
    case "delete":
      return remove(state.store, w);
    case "deletecollection": {
      const matches = matcher(type, namespace, call.query);
      const deleted = state.store.list(type.storageKey, namespace).filter(matches);
      for (const obj of deleted) remove(state.store, { ...w, namespace: obj.metadata.namespace, name: obj.metadata.name });
      return { code: 200, body: { kind: type.listKind, apiVersion: apiVersionOf(type), metadata: {}, items: deleted.map((o) => view(type, o)) } };
    }
    default:
      throw methodNotAllowed();
  }
}
