// `idsync operator`: watches ManagementAgents, SyncRules, RetentionPolicies (and the Secrets they
// name) in one namespace or all, and — while holding the leader lease — keeps each namespace's
// engine (its own schema or embedded database) converged to that namespace's resources. Every
// replica keeps its caches warm and answers its probes; only the leader reconciles, runs and
// schedules. SIGTERM: stop taking work, let the engine task in flight finish, release the
// lease (a successor takes over at once instead of after the lease expires), close everything.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Kind } from "../config/model.ts";
import { openEngine, type Engine } from "../engine/index.ts";
import { parseDataRoots, type PathPolicy } from "../config/paths.ts";
import type { Database } from "../store/db.ts";
import type { PostgresTimeouts } from "../store/pgconfig.ts";
import { EventRecorder } from "./events.ts";
import { startHttpServer } from "./http.ts";
import { Informer, type InformerOptions, type ListPage } from "./informer.ts";
import { kubeClients, loadKubeConfig, RESOURCE_TYPES, type KubeClients } from "./kube.ts";
import { LeaderElector, type LeaderElectionTiming } from "./leader.ts";
import { createLogger, type Logger } from "./log.ts";
import { embeddedRoot, legacyState, openNamespaceDatabase, openServer, type NamespaceStorage } from "./databases.ts";
import { createOperatorMetrics } from "./metrics.ts";
import { DEFAULT_LEASE_NAME } from "./rbac-needs.ts";
import { Reconciler, type CustomObject } from "./reconciler.ts";
import { parseAllowedSecrets, secretInformers, SecretStore } from "./secrets.ts";

export interface OperatorOptions {
  /** Kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then in-cluster; none of them is an error. */
  kubeconfig?: string;
  /** Accept a plain http:// API server and do not verify a https:// one's certificate (kubectl's --insecure-skip-tls-verify). */
  insecureSkipTlsVerify?: boolean;
  /** Secrets usable without the opt-in label: `name` (in any watched namespace) or `namespace/name`. */
  allowedSecrets?: string[];
  /** Watch one namespace; undefined: all namespaces. */
  namespace?: string;
  /**
   * The folders CSV management agents may use, as NAME=DIR (--csv-root; default IDSYNC_CSV_ROOTS,
   * comma-separated). A CSV path is then `<NAME>/<path inside DIR>`; without roots no CSV MA is valid.
   */
  csvRoots?: string[];
  /** PostgreSQL URL; absent: the embedded database under dataDir. */
  database?: string;
  /** Connect and statement timeouts of the PostgreSQL server (defaults in store/pgconfig.ts). */
  databaseTimeouts?: PostgresTimeouts;
  dataDir?: string;
  /** Port of /metrics, /healthz, /readyz (default 8080; 0: any free port). */
  metricsPort?: number;
  metricsHost?: string;
  /** Lease name (default idsync-operator) and namespace (default: POD_NAMESPACE, the watched namespace, the context's). */
  leaseName?: string;
  leaseNamespace?: string;
  /** This replica's identity in the lease (default: POD_NAME or the host name, plus a random suffix). */
  identity?: string;
  signal?: AbortSignal;
  leaderElection?: Partial<LeaderElectionTiming>;
  informers?: { relistIntervalMs?: number; backoffInitialMs?: number; backoffMaxMs?: number };
  /** Reconcile workers (default 2). */
  workers?: number;
  /** Runs executing at once across all namespaces, each namespace's engine being its own (default 2). */
  parallelRuns?: number;
  /** Install SIGTERM/SIGINT handlers that shut down gracefully (default true). */
  handleSignals?: boolean;
  logger?: Logger;
  /** Called once /metrics and the probes are served, with the port. */
  onListening?: (port: number) => void;
}

const KINDS: Kind[] = ["ManagementAgent", "SyncRule", "RetentionPolicy"];

function customResourceInformer(clients: KubeClients, kind: Kind, namespace: string | undefined, common: Partial<InformerOptions<CustomObject>>): Informer<CustomObject> {
  const t = RESOURCE_TYPES[kind];
  return new Informer<CustomObject>({
    ...common,
    name: t.plural,
    watch: clients.watch,
    watchPath: namespace ? `/apis/${t.group}/${t.version}/namespaces/${namespace}/${t.plural}` : `/apis/${t.group}/${t.version}/${t.plural}`,
    list: async ({ limit, continue: _continue }) =>
      (namespace
        ? await clients.custom.listNamespacedCustomObject({ group: t.group, version: t.version, plural: t.plural, namespace, limit, _continue })
        : await clients.custom.listClusterCustomObject({ group: t.group, version: t.version, plural: t.plural, limit, _continue })) as ListPage<CustomObject>,
  });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Connects to the PostgreSQL server (its default schema: each namespace's engine opens its own
 * schema when needed), retrying with back-off: the operator may start before PostgreSQL does.
 */
async function openServerWithRetry(storage: NamespaceStorage & { url: string }, log: Logger, signal: AbortSignal): Promise<Database | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await openServer(storage);
    } catch (e) {
      const wait = Math.min(30_000, 500 * 2 ** attempt);
      log.warn("database not reachable; retrying", { error: (e as Error).message, retryInMs: wait });
      await sleep(wait, signal);
    }
  }
  return undefined;
}

export async function runOperator(opts: OperatorOptions = {}): Promise<void> {
  // Configuration mistakes are one error at start (the CLI prints it and exits 1), before anything
  // is served or retried.
  const kubeConfig = loadKubeConfig({ file: opts.kubeconfig, insecureSkipTlsVerify: opts.insecureSkipTlsVerify });
  const allowedSecrets = parseAllowedSecrets(opts.allowedSecrets);
  const paths: PathPolicy = { kind: "roots", roots: parseDataRoots(opts.csvRoots ?? (process.env.IDSYNC_CSV_ROOTS ?? "").split(",").filter((r) => r.trim() !== "")) };
  const stop = new AbortController();
  const signal = stop.signal;
  if (opts.signal) {
    if (opts.signal.aborted) return;
    opts.signal.addEventListener("abort", () => stop.abort(), { once: true });
  }
  const identity = opts.identity ?? `${process.env.POD_NAME ?? hostname()}_${randomUUID().slice(0, 8)}`;
  const log = (opts.logger ?? createLogger()).child({ component: "operator", identity });
  const onSignal = (sig: string) => {
    log.info("shutting down", { signal: sig });
    stop.abort();
  };
  const signals = opts.handleSignals === false ? [] : (["SIGTERM", "SIGINT"] as const);
  for (const s of signals) process.once(s, onSignal);

  const metrics = createOperatorMetrics();
  const clients = kubeClients(kubeConfig);
  if (opts.insecureSkipTlsVerify) log.warn("--insecure-skip-tls-verify: the API server's identity is not verified", { server: kubeConfig.getCurrentCluster()?.server });
  const namespace = opts.namespace || undefined;
  const leaseNamespace = opts.leaseNamespace ?? process.env.POD_NAMESPACE ?? namespace ?? clients.contextNamespace;

  const common = {
    logger: log,
    relistIntervalMs: opts.informers?.relistIntervalMs,
    backoffInitialMs: opts.informers?.backoffInitialMs,
    backoffMaxMs: opts.informers?.backoffMaxMs,
  };
  const informers = Object.fromEntries(
    KINDS.map((k) => [k, customResourceInformer(clients, k, namespace, { ...common, onRelist: (reason) => metrics.relists.inc({ resource: RESOURCE_TYPES[k].plural, reason }) })]),
  ) as Record<Kind, Informer<CustomObject>>;
  const secretsInformers = secretInformers(clients, namespace, allowedSecrets, { ...common, onRelist: (reason) => metrics.relists.inc({ resource: "secrets", reason }) });
  const secrets = new SecretStore(secretsInformers, allowedSecrets);
  const allInformers = [...Object.values(informers), ...secretsInformers];

  let database: Database | undefined;
  let reconciler: Reconciler | undefined;
  let dbCheck = { at: 0, ok: false, detail: "database: not opened yet" };

  const http = await startHttpServer({
    port: opts.metricsPort ?? 8080,
    host: opts.metricsHost,
    registry: metrics.registry,
    healthy: () => ({ ok: true, details: [] }),
    ready: async () => {
      const details = allInformers.map((i, n) => `informer ${n < 3 ? RESOURCE_TYPES[KINDS[n]].plural : "secrets"}: ${i.hasSynced() ? "synced" : "not synced"}`);
      if (database && Date.now() - dbCheck.at > 1000) {
        try {
          await Promise.race([database.query("select 1"), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 2000).unref())]);
          dbCheck = { at: Date.now(), ok: true, detail: "database: ok" };
        } catch (e) {
          dbCheck = { at: Date.now(), ok: false, detail: `database: ${(e as Error).message}` };
        }
      }
      details.push(dbCheck.detail);
      return { ok: dbCheck.ok && allInformers.every((i) => i.hasSynced()), details };
    },
  });
  log.info("serving /metrics, /healthz, /readyz", { port: http.port });
  opts.onListening?.(http.port);

  try {
    const storage: NamespaceStorage = { url: opts.database, dataDir: opts.dataDir, timeouts: opts.databaseTimeouts };
    if (storage.url) {
      database = await openServerWithRetry({ ...storage, url: storage.url }, log, signal);
      if (!database) return;
    }
    // Embedded, each namespace's database is opened by its engine: there is no server to ask.
    dbCheck = { at: Date.now(), ok: true, detail: database ? "database: ok" : `database: embedded, one per namespace under ${embeddedRoot(storage.dataDir)}` };
    const legacy = await legacyState(storage, database).catch(() => undefined);
    if (legacy) log.warn(legacy);
    // Each namespace's engine is opened by the leader when the namespace first needs it (reconciler.ts,
    // tenant.ts), so it loads what the previous leader applied; it reads Secrets of its own namespace only.
    const engineFor = async (ns: string): Promise<Engine> => {
      const db = await openNamespaceDatabase(storage, ns);
      try {
        return await openEngine({
          paths,
          database: db,
          // A CLI run (or a replica that lost its lease mid-run) may hold a run's locks: wait for it
          // rather than fail, the schedule would only ask again.
          holderName: "idsync operator",
          lockWaitMs: 10 * 60_000,
          secrets: async (name, key) => secrets.resolve(ns, name, key),
        });
      } catch (e) {
        await db.close().catch(() => undefined);
        throw e;
      }
    };
    const events = new EventRecorder({ core: clients.core, component: "idsync-operator", instance: identity, logger: log });

    for (const kind of KINDS) informers[kind].on((e) => reconciler?.onEvent(kind, e));
    for (const i of secretsInformers) i.on((e) => reconciler?.onSecretEvent(e));
    for (const i of allInformers) i.start();
    // Caches never sync while the CRDs are missing: a shutdown must not wait for them.
    const aborted = new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
    await Promise.race([Promise.all(allInformers.map((i) => i.waitForSync())), aborted]);
    if (signal.aborted) return;
    log.info("caches synced", { namespace: namespace ?? "(all)", leaseNamespace });

    const elector = new LeaderElector({
      api: clients.coordination,
      namespace: leaseNamespace,
      name: opts.leaseName ?? process.env.IDSYNC_LEASE_NAME ?? DEFAULT_LEASE_NAME,
      identity,
      timing: opts.leaderElection,
      logger: log,
      onNewLeader: (holder) => log.info("leader observed", { leader: holder }),
      onStartedLeading: async () => {
        metrics.leader.set(1);
        reconciler = new Reconciler({ engineFor, informers, secrets, custom: clients.custom, events, metrics, logger: log, workers: opts.workers, parallelRuns: opts.parallelRuns, paths });
        reconciler.start();
      },
      onStoppedLeading: async () => {
        metrics.leader.set(0);
        const r = reconciler;
        reconciler = undefined;
        await r?.stop();
      },
    });
    await elector.run(signal);
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
    await Promise.all(allInformers.map((i) => i.stop()));
    await http.close();
    // The namespaces' engines closed with their term; this is the server connection of /readyz.
    if (database) await database.close().catch(() => undefined);
    log.info("stopped");
  }
}
