// The operator's Kubernetes plumbing: kubeconfig loading, the API clients, the three custom
// resources' coordinates, and API errors reduced to what may be logged (code and Status message —
// an ApiException's own message embeds response headers and bodies).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { API_GROUP, type Kind } from "../config/model.ts";

export const API_VERSION_NAME = "v1alpha1";

export interface CustomResourceType {
  kind: Kind;
  group: string;
  version: string;
  plural: string;
}

export const RESOURCE_TYPES: Record<Kind, CustomResourceType> = {
  ManagementAgent: { kind: "ManagementAgent", group: API_GROUP, version: API_VERSION_NAME, plural: "managementagents" },
  SyncRule: { kind: "SyncRule", group: API_GROUP, version: API_VERSION_NAME, plural: "syncrules" },
  RetentionPolicy: { kind: "RetentionPolicy", group: API_GROUP, version: API_VERSION_NAME, plural: "retentionpolicies" },
};

export interface KubeClients {
  config: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  watch: Watch;
  /** The namespace of the current context (in-cluster: the pod's namespace). */
  contextNamespace: string;
}

const SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export interface KubeConfigOptions {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then in-cluster (client-node's order). */
  file?: string;
  /** Do not verify the API server's certificate, and accept a plain http:// server (kubectl's --insecure-skip-tls-verify). */
  insecureSkipTlsVerify?: boolean;
}

/**
 * The API server to talk to, or an error that says in one line why there is none. client-node
 * falls back to http://localhost:8080 when it finds no configuration, and refuses a plain http://
 * server unless skipTLSVerify is set: both would otherwise surface as an endless retry of every
 * list and watch instead of one clear message at start.
 */
export function loadKubeConfig(opts: KubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  // Errors keep their first line only: a YAML error goes on to quote the file, which may hold a token.
  if (opts.file) {
    try {
      kc.loadFromFile(opts.file);
    } catch (e) {
      throw new Error(`cannot read the kubeconfig ${opts.file}: ${(e as Error).message.split("\n")[0]}`);
    }
  } else {
    const inCluster = !!process.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN);
    if (!process.env.KUBECONFIG && !existsSync(join(homedir(), ".kube", "config")) && !inCluster) {
      throw new Error("no Kubernetes API server to talk to: not running in a cluster and no kubeconfig (pass --kubeconfig FILE, or set KUBECONFIG, or create ~/.kube/config)");
    }
    try {
      kc.loadFromDefault();
    } catch (e) {
      throw new Error(`cannot read the kubeconfig: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`the kubeconfig has no cluster for its current context (${kc.getCurrentContext() || "none"})`);
  if (opts.insecureSkipTlsVerify) {
    // The fields of client-node's Cluster are read-only: replace the current one.
    kc.clusters = kc.clusters.map((c) => (c === cluster ? { ...c, skipTLSVerify: true } : c));
  } else if (/^http:/i.test(cluster.server) && !cluster.skipTLSVerify) {
    throw new Error(
      `the API server ${cluster.server} is plain HTTP (no TLS): pass --insecure-skip-tls-verify (or set insecure-skip-tls-verify: true in the kubeconfig) to talk to it anyway`,
    );
  }
  return kc;
}

export function kubeClients(kc: KubeConfig): KubeClients {
  const context = kc.getContextObject(kc.getCurrentContext());
  let namespace = context?.namespace;
  if (!namespace && existsSync(SERVICE_ACCOUNT_NAMESPACE)) namespace = readFileSync(SERVICE_ACCOUNT_NAMESPACE, "utf8").trim();
  return {
    config: kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    watch: new Watch(kc),
    contextNamespace: namespace || "default",
  };
}

/** Request options that send a JSON merge patch (client-node defaults to JSON patch). */
export const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The HTTP status of a failed API call, if it was one. */
export function apiErrorCode(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const code = (e as { code?: unknown; statusCode?: unknown } | undefined)?.statusCode ?? (e as { code?: unknown } | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

/** A one-line description of an API error that is safe to log: the code and the Status message. */
export function describeApiError(e: unknown): string {
  if (e instanceof ApiException) {
    let body: unknown = e.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        // not JSON: leave it out
      }
    }
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${e.code}${typeof message === "string" ? `: ${message}` : ""}`;
  }
  return (e as Error)?.message ?? String(e);
}

/** A resourceVersion-style timestamp for MicroTime fields (Leases, events.k8s.io): RFC 3339 with microseconds. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
