// Reading the idsync CRs from a Kubernetes cluster for `idsync drift --cluster`, reduced to what a
// user declares: the API server's own fields (status, uid, resourceVersion, generation,
// managedFields, creationTimestamp, finalizers) are dropped, and the CRDs' defaults are applied the
// same way the file loader applies them, so a default the API server filled in is not drift.
import { ApiException, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { crdFor } from "../config/index.ts";
import { API_VERSION, type AnyResource, type Kind } from "../config/model.ts";
import { validateAgainstCrd } from "../config/schema.ts";

export interface ClusterOptions {
  /** A kubeconfig file; default: $KUBECONFIG, in-cluster, then ~/.kube/config. */
  kubeconfig?: string;
  /** The namespace of resources that name none; default: the kubeconfig context's, else "default". */
  namespace?: string;
}

export interface ClusterResources {
  /** The API server's URL (never credentials). */
  server: string;
  defaultNamespace: string;
  namespaces: string[];
  resources: AnyResource[];
}

const KINDS: Kind[] = ["ManagementAgent", "SyncRule", "RetentionPolicy"];

export function loadClusterConfig(opts: ClusterOptions): { kc: KubeConfig; server: string; defaultNamespace: string } {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error(`no cluster in the kubeconfig${opts.kubeconfig ? ` ${opts.kubeconfig}` : ""} (current context: ${kc.getCurrentContext() || "none"})`);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { kc, server, defaultNamespace: opts.namespace ?? contextNamespace ?? "default" };
}

/** Every idsync CR in the given namespaces (the default namespace is always read). */
export async function readClusterResources(opts: ClusterOptions, namespaces: Iterable<string> = []): Promise<ClusterResources> {
  const { kc, server, defaultNamespace } = loadClusterConfig(opts);
  const api = kc.makeApiClient(CustomObjectsApi);
  const [group, version] = API_VERSION.split("/");
  const all = [...new Set([defaultNamespace, ...namespaces])].sort();
  const resources: AnyResource[] = [];
  for (const namespace of all) {
    for (const kind of KINDS) {
      const plural = crdFor(kind)?.spec.names.plural;
      if (!plural) throw new Error(`no CRD for ${kind} in crds/`);
      let list: { items?: Array<Record<string, unknown>> };
      try {
        list = (await api.listNamespacedCustomObject({ group, version, namespace, plural })) as typeof list;
      } catch (e) {
        throw new Error(`listing ${plural}.${group} in namespace ${namespace} on ${server}: ${describe(e)}`);
      }
      for (const item of list.items ?? []) resources.push(declared(item, kind, namespace));
    }
  }
  return { server, defaultNamespace, namespaces: all, resources };
}

/** The declared part of a CR as the API server returns it, with the CRD's defaults applied. */
function declared(item: Record<string, unknown>, kind: Kind, namespace: string): AnyResource {
  const meta = (item.metadata ?? {}) as Record<string, unknown>;
  const metadata: AnyResource["metadata"] = { name: String(meta.name), namespace: typeof meta.namespace === "string" ? meta.namespace : namespace };
  if (meta.labels && typeof meta.labels === "object") metadata.labels = meta.labels as Record<string, string>;
  if (meta.annotations && typeof meta.annotations === "object") metadata.annotations = meta.annotations as Record<string, string>;
  const resource = { apiVersion: API_VERSION, kind, metadata, spec: structuredClone(item.spec ?? {}) } as AnyResource;
  // Defaults land in place; a resource the current CRDs reject is still compared as it is.
  validateAgainstCrd(resource);
  return resource;
}

function describe(e: unknown): string {
  if (e instanceof ApiException) {
    let body: unknown = e.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        // not JSON: only the code is safe to show
      }
    }
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${e.code}${typeof message === "string" ? `: ${message}` : ""}`;
  }
  return (e as Error)?.message ?? String(e);
}
