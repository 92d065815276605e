// startApiServer: a real HTTP Kubernetes API server for tests, serving the CRDs from crds/ plus
// the built-in types the operator uses, with RBAC for the operator's service account, and the
// levers tests need to exercise informer recovery: dropWatches(), compact(), restart().
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import path from "node:path";
import yaml from "js-yaml";
import { builtinTypes } from "./builtins.ts";
import { crdResourceType, customResourceTypes, loadCrdFiles } from "./crds.ts";
import { discoveryDocument } from "./discovery.ts";
import { ApiError, internalError, routeNotFound } from "./errors.ts";
import { handleResource, type ServerState } from "./handlers.ts";
import { authenticate, authorize, type PolicyRule, type RbacOptions } from "./rbac.ts";
import { parseRequestInfo } from "./requestinfo.ts";
import { ResourceRegistry, type KObject, type ResourceType } from "./resources.ts";
import { ObjectStore } from "./store.ts";
import { WatchHub } from "./watch.ts";
import { create, type Reply } from "./writes.ts";

export type { PolicyRule, RbacOptions };

export interface ApiServerOptions {
  /** 0 or absent: a random free loopback port. */
  port?: number;
  /** CRD YAML files to serve; default: every crds/*.yaml of the repository. */
  crdFiles?: string[];
  /** Absent: every request is allowed. */
  rbac?: RbacOptions;
  /** Events kept per resource for watch resumption (default 1000); a resume from before them gets 410 Gone. */
  historyLimit?: number;
  /** How often watches that allow bookmarks get one (default 1000 ms; a real server: about a minute). */
  bookmarkIntervalMs?: number;
}

export interface AuditRecord {
  verb: string;
  apiGroup: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  user: string;
  allowed: boolean;
}

export interface ApiServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** A kubeconfig (YAML) for this server; token defaults to rbac.adminToken when there is one. */
  kubeconfig(opts?: { token?: string; namespace?: string }): string;
  writeKubeconfig(file: string, opts?: { token?: string; namespace?: string }): void;
  /** Ends every open watch; abruptly (connection reset) unless graceful, which ends them like a server timeout. */
  dropWatches(opts?: { graceful?: boolean }): void;
  /** Forgets history: every resourceVersion handed out so far is too old to watch from (410). */
  compact(): void;
  /** Stops and starts again on the same port, keeping every object and the history. */
  restart(): Promise<void>;
  /** Every resource request with its RBAC verdict, oldest first. */
  requests: AuditRecord[];
  /** How many watches are open now. */
  openWatches(): number;
}

const REPO_CRDS = fileURLToPath(new URL("../../crds/", import.meta.url));
const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
const MAX_BODY = 3 * 1024 * 1024;

function defaultCrdFiles(): string[] {
  if (!existsSync(REPO_CRDS)) return [];
  return readdirSync(REPO_CRDS).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(REPO_CRDS, f));
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function registerCrd(state: ServerState, crd: KObject, event: "ADDED" | "MODIFIED" | "DELETED"): void {
  const spec = crd.spec as { group: string; names: { plural: string } };
  const storageKey = `${spec.group}/${spec.names.plural}`;
  state.registry.removeStorage(storageKey);
  if (event !== "DELETED") {
    for (const t of customResourceTypes(crd)) state.registry.add(t);
    return;
  }
  // Deleting a CRD deletes every object of it, each with its DELETED event.
  for (const obj of state.store.list(storageKey)) state.store.write("DELETED", storageKey, obj);
}

function seed(state: ServerState, type: ResourceType, obj: KObject, origin: string): void {
  try {
    create(state.store, {
      type, query: new URLSearchParams(), contentType: "application/json", userAgent: "apiserver",
      body: Buffer.from(JSON.stringify(obj)),
    });
  } catch (e) {
    const detail = e instanceof ApiError ? JSON.stringify(e.toStatus()) : (e as Error).message;
    throw new Error(`${origin}: cannot serve ${obj.kind} "${obj.metadata?.name}": ${detail}`);
  }
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const store = new ObjectStore(opts.historyLimit ?? 1000);
  const registry = new ResourceRegistry();
  const state: ServerState = { store, registry, watches: new WatchHub(store, opts.bookmarkIntervalMs ?? 1000) };
  const crdType = crdResourceType((crd, event) => registerCrd(state, crd, event));
  for (const t of [...builtinTypes(), crdType]) registry.add(t);
  const namespaceType = registry.find("", "v1", "namespaces")!;
  for (const ns of DEFAULT_NAMESPACES) seed(state, namespaceType, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, "start-up");
  for (const file of opts.crdFiles ?? defaultCrdFiles()) {
    for (const crd of loadCrdFiles([file])) seed(state, crdType, crd, file);
  }

  const requests: AuditRecord[] = [];
  const rbac = opts.rbac;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const body = await readBody(req);
    const user = authenticate(req.headers.authorization, rbac);
    const info = parseRequestInfo(req.method ?? "GET", url.pathname, url.searchParams);
    if (!info) {
      if (["/healthz", "/livez", "/readyz"].includes(url.pathname)) {
        res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
        res.end("ok");
        return;
      }
      const doc = discoveryDocument(url.pathname.replace(/\/$/, ""), registry, `127.0.0.1:${port}`);
      if (doc === undefined) throw routeNotFound();
      sendJson(res, 200, doc);
      return;
    }
    const record: AuditRecord = {
      verb: info.verb, apiGroup: info.apiGroup, resource: info.resource, namespace: info.namespace,
      name: info.authorizationName, subresource: info.subresource, user: user.name, allowed: false,
    };
    requests.push(record);
    authorize(user, { ...info, name: info.authorizationName }, rbac);
    record.allowed = true;
    const reply: Reply | undefined = handleResource(state, res, {
      info, query: url.searchParams, contentType: req.headers["content-type"] ?? "application/json",
      userAgent: req.headers["user-agent"] ?? "", accept: req.headers.accept ?? "", body,
    });
    if (reply) sendJson(res, reply.code, reply.body);
  }

  const sockets = new Set<Socket>();
  let server: Server;
  let port = opts.port ?? 0;

  async function listen(): Promise<void> {
    server = createServer((req, res) => {
      serve(req, res).catch((e: unknown) => {
        const error = e instanceof ApiError ? e : internalError((e as Error).stack ?? String(e));
        if (res.headersSent) res.destroy();
        else sendJson(res, error.code, error.toStatus());
      });
    });
    server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    port = (server.address() as { port: number }).port;
  }

  async function close(): Promise<void> {
    state.watches.endAll(true);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  }

  await listen();
  const url = `http://127.0.0.1:${port}`;

  function kubeconfig(k: { token?: string; namespace?: string } = {}): string {
    const token = k.token ?? rbac?.adminToken;
    return yaml.dump({
      apiVersion: "v1",
      kind: "Config",
      // client-node refuses plain http unless TLS verification is (pointlessly) switched off.
      clusters: [{ name: "idsync-test", cluster: { server: url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "idsync-test", user: token ? { token } : {} }],
      contexts: [{ name: "idsync-test", context: { cluster: "idsync-test", user: "idsync-test", namespace: k.namespace ?? "default" } }],
      "current-context": "idsync-test",
    });
  }

  return {
    url,
    port,
    requests,
    stop: close,
    kubeconfig,
    writeKubeconfig: (file, k) => writeFileSync(file, kubeconfig(k), { mode: 0o600 }),
    dropWatches: (d = {}) => state.watches.endAll(!d.graceful),
    compact: () => store.compact(),
    restart: async () => {
      await close();
      await listen();
    },
    openWatches: () => state.watches.openCount,
  };
}
