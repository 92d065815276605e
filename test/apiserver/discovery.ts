// Discovery in the legacy (unaggregated) format: /api, /api/v1, /apis, /apis/<group>[/<version>],
// /version. kubectl asks for aggregated discovery first and falls back when it gets plain JSON
// lists, so this is all it needs to map kinds to resources for `apply`, `get` and `delete`.
import type { ResourceRegistry, ResourceType } from "./resources.ts";

/** The Kubernetes version reported; kubectl's version-dispatching wrappers pick a client by it. */
export const SERVER_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0" };

function resourceEntries(types: ResourceType[]): unknown[] {
  const out: unknown[] = [];
  for (const t of types) {
    const entry: Record<string, unknown> = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
    };
    if (t.shortNames.length) entry.shortNames = t.shortNames;
    if (t.categories.length) entry.categories = t.categories;
    out.push(entry);
    if (t.statusSubresource) {
      out.push({ name: `${t.plural}/status`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: ["get", "patch", "update"] });
    }
  }
  return out;
}

function groupEntry(name: string, versions: string[]) {
  const list = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: list, preferredVersion: list[0] };
}

/** The discovery document for `path`, or undefined when `path` is not a discovery path. */
export function discoveryDocument(path: string, registry: ResourceRegistry, serverAddress: string): unknown {
  const groups = registry.groups();
  if (path === "/version") {
    return {
      ...SERVER_VERSION,
      gitCommit: "0000000000000000000000000000000000000000",
      gitTreeState: "clean",
      buildDate: "2024-12-11T00:00:00Z",
      goVersion: "go1.23.0",
      compiler: "gc",
      platform: "linux/amd64",
    };
  }
  if (path === "/api") {
    return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
  }
  if (path === "/api/v1") {
    return { kind: "APIResourceList", groupVersion: "v1", resources: resourceEntries(registry.resourcesIn("", "v1")) };
  }
  if (path === "/apis") {
    const list = [...groups].filter(([g]) => g !== "").map(([g, versions]) => groupEntry(g, versions));
    return { kind: "APIGroupList", apiVersion: "v1", groups: list };
  }
  const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (m && m[1] && groups.has(m[1])) {
    const [, group, version] = m;
    if (version === undefined) return { kind: "APIGroup", apiVersion: "v1", ...groupEntry(group, groups.get(group)!) };
    if (!groups.get(group)!.includes(version)) return undefined;
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: `${group}/${version}`,
      resources: resourceEntries(registry.resourcesIn(group, version)),
    };
  }
  return undefined;
}
