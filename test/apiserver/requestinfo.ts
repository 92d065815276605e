// What a request path means, as the real server's RequestInfoFactory works it out: group,
// version, namespace, resource, name, subresource, and the verb RBAC checks (get vs list vs watch,
// delete vs deletecollection, and the name a `metadata.name` field selector pins for list/watch).
import { selectedName } from "./selectors.ts";

export interface RequestInfo {
  verb: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  namespace?: string;
  /** The object name in the path. */
  name?: string;
  /** The name RBAC checks against resourceNames: the path's, or a list/watch's `metadata.name=` selector. */
  authorizationName?: string;
  subresource?: string;
  /** Parts past the subresource: the server serves none of them. */
  tooDeep: boolean;
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

const VERBS: Record<string, string> = { GET: "get", HEAD: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };

/** The resource request `path` names, or undefined for a non-resource path (discovery, /version, /healthz). */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo | undefined {
  const parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent);
  let apiGroup: string;
  let apiVersion: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) [apiGroup, apiVersion, rest] = ["", parts[1], parts.slice(2)];
  else if (parts[0] === "apis" && parts.length >= 4) [apiGroup, apiVersion, rest] = [parts[1], parts[2], parts.slice(3)];
  else return undefined;

  let verb = VERBS[method] ?? method.toLowerCase();
  let watchPath = false;
  if (rest[0] === "watch") {
    rest = rest.slice(1);
    watchPath = true;
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1];
    // `namespaces/x/secrets` is a resource in namespace x; `namespaces/x/status` is the namespace's own subresource.
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (resource === undefined) return undefined;
  const watchParam = query.get("watch");
  const watching = watchPath || (watchParam !== null && !["false", "0"].includes(watchParam.toLowerCase()));
  let authorizationName: string | undefined = name;
  if (name === undefined) {
    if (verb === "get") verb = watching ? "watch" : "list";
    if (verb === "delete") verb = "deletecollection";
    if (verb === "list" || verb === "watch") authorizationName = selectedName(query.get("fieldSelector"));
  } else if (watchPath) verb = "watch";
  return { verb, apiGroup, apiVersion, resource, namespace, name, authorizationName, subresource, tooDeep: rest.length > 3 };
}
