// `idsync operator`: watches ManagementAgents, SyncRules, RetentionPolicies (and the Secrets they
// name) in one namespace or all, and — while holding the leader lease — keeps the engine converged
// to them. Every replica keeps its caches warm and answers its probes; only the leader reconciles,
// runs and schedules. SIGTERM: stop taking work, let the engine task in flight finish, release the
// lease (a successor takes over at once instead of after the lease expires), close everything.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Kind } from "../config/model.ts";
import { openEngine } from "../engine/index.ts";
import { openDatabase, type Database } from "../store/db.ts";
import type { PostgresTimeouts } from "../store/pgconfig.ts";
import { EventRecorder } from "./events.ts";
import { startHttpServer } from "./http.ts";
import { Informer, type InformerOptions, type ListPage } from "./informer.ts";
import { kubeClients, loadKubeConfig, RESOURCE_TYPES, type KubeClients } from "./kube.ts";
import { LeaderElector, type LeaderElectionTiming } from "./leader.ts";
import { createLogger, type Logger } from "./log.ts";
import { createOperatorMetrics } from "./metrics.ts";
import { DEFAULT_LEASE_NAME } from "./rbac-needs.ts";
import { Reconciler, type CustomObject } from "./reconciler.ts";
import { SecretStore, type SecretObject } from "./secrets.ts";

export interface OperatorOptions {
  /** Kubeconfig file; default: in-cluster, then ~/.kube/config. */
  kubeconfig?: string;
  /** Watch one namespace; undefined: all namespaces. */
  namespace?: string;
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

function secretInformer(clients: KubeClients, namespace: string | undefined, common: Partial<InformerOptions<SecretObject>>): Informer<SecretObject> {
  return new Informer<SecretObject>({
    ...common,
    name: "secrets",
    watch: clients.watch,
    watchPath: namespace ? `/api/v1/namespaces/${namespace}/secrets` : `/api/v1/secrets`,
    list: async ({ limit, continue: _continue }) =>
      (namespace
        ? await clients.core.listNamespacedSecret({ namespace, limit, _continue })
        : await clients.core.listSecretForAllNamespaces({ limit, _continue })) as unknown as ListPage<SecretObject>,
  });
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/** Opens the database, retrying with back-off: the operator may start before PostgreSQL does. */
async function openDatabaseWithRetry(opts: OperatorOptions, log: Logger, signal: AbortSignal): Promise<Database | undefined> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      return await openDatabase({ url: opts.database, dataDir: opts.dataDir, timeouts: opts.databaseTimeouts });
    } catch (e) {
      const wait = Math.min(30_000, 500 * 2 ** attempt);
      log.warn("database not reachable; retrying", { error: (e as Error).message, retryInMs: wait });
      await sleep(wait, signal);
    }
  }
  return undefined;
}

export async function runOperator(opts: OperatorOptions = {}): Promise<void> {
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
  const clients = kubeClients(loadKubeConfig(opts.kubeconfig));
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
  const secretsInformer = secretInformer(clients, namespace, { ...common, onRelist: (reason) => metrics.relists.inc({ resource: "secrets", reason }) });
  const secrets = new SecretStore(secretsInformer);
  const allInformers = [...Object.values(informers), secretsInformer];

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
    database = await openDatabaseWithRetry(opts, log, signal);
    if (!database) return;
    dbCheck = { at: Date.now(), ok: true, detail: "database: ok" };
    const db = database;
    const namespaceOfMa = (ma: string | undefined) => informers.ManagementAgent.list().find((o) => o.metadata.name === ma)?.metadata.namespace;
    // One engine per leadership term, opened when the term starts: it loads the configuration the
    // previous leader applied, not what was applied when this replica started.
    const engineForTerm = () =>
      openEngine({
        database: db,
        // A CLI run (or a replica that lost its lease mid-run) may hold a run's locks: wait for it
        // rather than fail, the schedule would only ask again.
        holderName: "idsync operator",
        lockWaitMs: 10 * 60_000,
        // The engine asks by Secret name and key; the namespace is that of the MA whose run is executing.
        secrets: async (name, key) => secrets.resolve(namespaceOfMa(reconciler?.runs.currentMa), name, key),
      });
    const events = new EventRecorder({ core: clients.core, component: "idsync-operator", instance: identity, logger: log });

    for (const kind of KINDS) informers[kind].on((e) => reconciler?.onEvent(kind, e));
    secretsInformer.on((e) => reconciler?.onSecretEvent(e));
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
        const engine = await engineForTerm();
        metrics.leader.set(1);
        reconciler = new Reconciler({ engine, informers, secrets, custom: clients.custom, events, metrics, logger: log, workers: opts.workers });
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
    // The engines of past terms hold nothing but the database, closed here once.
    if (database) await database.close().catch(() => undefined);
    log.info("stopped");
  }
}
