// Shared by the operator tests: a test API server that enforces the Helm chart's RBAC for the
// operator's service account, an admin client to play the user (kubectl apply/delete), an operator
// started in-process through the real client-node, CSV-backed MAs in a temp dir, and polling.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { startApiServer, type ApiServer } from "../apiserver/server.ts";
import { runOperator, type OperatorOptions } from "../../src/operator/index.ts";
import { createLogger } from "../../src/operator/log.ts";
import { chartRbac } from "../chart/render.ts";
import type { AnyResource } from "../../src/config/model.ts";
import { directoryAgent, directoryOutbound, HR_COLUMNS, hrAgent, hrInbound, retention, writeCsv } from "../engine/builders.ts";
import { after, before } from "node:test";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { openEngine, type Engine } from "../../src/engine/index.ts";
import { openDatabase, schemaForNamespace } from "../../src/store/db.ts";

export const NS = "idsync-test";
export const OPERATOR_NS = "idsync-system";
export const SA_TOKEN = "operator-sa-token";
export const ADMIN_TOKEN = "admin-token";
export const LEASE = "idsync-operator";
export const GROUP = { group: "idsync.dev", version: "v1alpha1" } as const;
export const MERGE = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export type Obj = { apiVersion?: string; kind?: string; metadata: Record<string, any>; spec?: any; status?: any };

export interface Cluster {
  server: ApiServer;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  /** A kubeconfig file for the operator's service account. */
  operatorKubeconfig: string;
  dir: string;
  close(): Promise<void>;
}

/**
 * A test API server with the chart's RBAC (rendered from charts/idsync with its default values,
 * watching all namespaces) bound to the operator's token, and the namespaces the tests use.
 */
export async function startCluster(opts: { historyLimit?: number; bookmarkIntervalMs?: number } = {}): Promise<Cluster> {
  const rbac = chartRbac({ namespace: OPERATOR_NS });
  const server = await startApiServer({
    historyLimit: opts.historyLimit,
    bookmarkIntervalMs: opts.bookmarkIntervalMs,
    rbac: {
      rules: rbac.clusterRules,
      roleRules: rbac.roleRules,
      serviceAccountToken: SA_TOKEN,
      adminToken: ADMIN_TOKEN,
      serviceAccountNamespace: OPERATOR_NS,
      serviceAccountName: "idsync",
    },
  });
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig({ token: ADMIN_TOKEN, namespace: NS }));
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of [NS, OPERATOR_NS]) await core.createNamespace({ body: { metadata: { name } } });
  const dir = mkdtempSync(join(tmpdir(), "idsync-operator-"));
  const operatorKubeconfig = join(dir, "operator.kubeconfig");
  server.writeKubeconfig(operatorKubeconfig, { token: SA_TOKEN, namespace: OPERATOR_NS });
  return {
    server,
    custom: kc.makeApiClient(CustomObjectsApi),
    core,
    coordination: kc.makeApiClient(CoordinationV1Api),
    operatorKubeconfig,
    dir,
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunningOperator {
  stop(): Promise<void>;
  port: Promise<number>;
  logs: string[];
  done: Promise<void>;
}

/** Fast timings so tests do not wait for production-sized leases and back-offs. */
export const FAST: Partial<OperatorOptions> = {
  leaderElection: { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 250 },
  informers: { backoffInitialMs: 50, backoffMaxMs: 500 },
};

/**
 * The CSV root the operator tests declare: their temp dir, so an MA's path is `test/hr.csv` (the
 * operator refuses absolute paths and anything outside a declared root).
 */
export const CSV_ROOT = "test";

/** The --csv-root declaration of a cluster's temp dir. */
export function csvRootOf(cluster: Pick<Cluster, "dir">): string {
  return `${CSV_ROOT}=${cluster.dir}`;
}

export function startOperator(cluster: Cluster, database: string, opts: Partial<OperatorOptions> = {}): RunningOperator {
  const controller = new AbortController();
  const logs: string[] = [];
  let resolvePort!: (p: number) => void;
  const port = new Promise<number>((r) => (resolvePort = r));
  const logger = createLogger({
    level: "debug",
    write: (line) => {
      logs.push(line);
      if (process.env.IDSYNC_TEST_LOGS) process.stderr.write(line + "\n");
    },
  });
  const done = runOperator({
    kubeconfig: cluster.operatorKubeconfig,
    database,
    metricsPort: 0,
    metricsHost: "127.0.0.1",
    leaseNamespace: OPERATOR_NS,
    handleSignals: false,
    logger,
    onListening: resolvePort,
    signal: controller.signal,
    csvRoots: [csvRootOf(cluster)],
    ...FAST,
    ...opts,
  });
  done.catch(() => undefined);
  return {
    port,
    logs,
    done,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

// ---------------------------------------------------------------- resources

export function plural(kind: string): string {
  return { ManagementAgent: "managementagents", SyncRule: "syncrules", RetentionPolicy: "retentionpolicies" }[kind]!;
}

export async function apply(cluster: Cluster, obj: Obj): Promise<Obj> {
  const at = { ...GROUP, namespace: obj.metadata.namespace ?? NS, plural: plural(obj.kind!) };
  try {
    const existing = (await cluster.custom.getNamespacedCustomObject({ ...at, name: obj.metadata.name })) as Obj;
    return (await cluster.custom.patchNamespacedCustomObject({ ...at, name: obj.metadata.name, body: { spec: obj.spec, metadata: { annotations: obj.metadata.annotations ?? existing.metadata.annotations } } }, MERGE)) as Obj;
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
    return (await cluster.custom.createNamespacedCustomObject({ ...at, body: { ...obj, metadata: { ...obj.metadata, namespace: at.namespace } } })) as Obj;
  }
}

export async function get(cluster: Cluster, kind: string, name: string, namespace = NS): Promise<Obj | undefined> {
  try {
    return (await cluster.custom.getNamespacedCustomObject({ ...GROUP, namespace, plural: plural(kind), name })) as Obj;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

export async function remove(cluster: Cluster, kind: string, name: string, namespace = NS): Promise<void> {
  await cluster.custom.deleteNamespacedCustomObject({ ...GROUP, namespace, plural: plural(kind), name });
}

export async function annotate(cluster: Cluster, kind: string, name: string, annotations: Record<string, string | null>, namespace = NS): Promise<void> {
  await cluster.custom.patchNamespacedCustomObject({ ...GROUP, namespace, plural: plural(kind), name, body: { metadata: { annotations } } }, MERGE);
}

// ---------------------------------------------------------------- a second namespace

/** The hostile tenant of the namespace tests: a namespace of its own, beside NS. */
export const OTHER_NS = "idsync-other";

export async function createNamespace(cluster: Cluster, name: string): Promise<void> {
  await cluster.core.createNamespace({ body: { metadata: { name } } });
}

/** A copy of a CR in another namespace (optionally renamed). */
export function inNamespace(o: Obj, namespace: string, name = o.metadata.name): Obj {
  return { ...o, metadata: { ...o.metadata, namespace, name }, spec: structuredClone(o.spec) };
}

/**
 * A copy of a CR for OTHER_NS, its CSV files in the `other/` subfolder; renamed when `name` is
 * given, and (a rule) pointing at `ma` when that is.
 */
export function inOtherNamespace(o: Obj, name?: string, ma?: string): Obj {
  const copy = inNamespace(inSubfolder(o, "other"), OTHER_NS, name);
  if (ma) copy.spec.managementAgent = ma;
  return copy;
}

/** HR files for two namespaces: `mine` in the CSV root, `theirs` in its `other/` subfolder. */
export function writeHrForTwoNamespaces(dir: string, mine: Array<Record<string, string>>, theirs: Array<Record<string, string>>): void {
  writeHr(dir, mine);
  mkdirSync(join(dir, "other"), { recursive: true });
  writeHr(join(dir, "other"), theirs);
}

/** The same CR reading and writing its CSV file in a subfolder of the CSV root (`other/hr.csv`). */
export function inSubfolder(o: Obj, folder: string): Obj {
  const copy = { ...o, spec: structuredClone(o.spec) };
  const csv = copy.spec?.connector?.csv;
  if (csv) csv.path = csv.path.replace(/([^/]+)$/, `${folder}/$1`);
  return copy;
}

/** Runs fn on one namespace's engine: its schema on the operator's database. */
export async function withNamespaceEngine<T>(url: string, namespace: string, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await openEngine({ database: await openDatabase({ url, schema: schemaForNamespace(namespace) }) });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** How many metaverse objects one namespace's engine holds. */
export function metaverseCount(url: string, namespace: string): Promise<number> {
  return withNamespaceEngine(url, namespace, async (e) => (await e.database.query<{ n: number }>(`select count(*)::int as n from mv_object`)).rows[0].n);
}

export function condition(o: Obj | undefined, type: string): { status: string; reason: string; message: string; observedGeneration?: number; lastTransitionTime: string } | undefined {
  return o?.status?.conditions?.find((c: { type: string }) => c.type === type);
}

/** Polls until `check` returns a value (not undefined/false); fails the test if it never does. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) assert.fail(`never happened: ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------------------------------------------------------------- an HR source and a directory target

// The same HR source and directory target as the engine tests (test/engine/builders.ts), as custom
// resources: in the test namespace, with CSV paths under the CSV root startOperator declares for the
// cluster's temp dir (`test/hr.csv`), and without the manager reference, which these tests do not need.
const IN_FLOWS = [
  { target: "employeeId", expression: "source.employeeId" },
  { target: "displayName", expression: 'source.givenName + " " + source.sn' },
  { target: "department", expression: "source.department" },
];
const OUT_FLOWS = [
  { target: "employeeId", expression: "mv.employeeId" },
  { target: "displayName", expression: "mv.displayName" },
  { target: "department", expression: "mv.department" },
];

function asCustomResource(r: AnyResource): Obj {
  const { source: _source, ...rest } = r;
  const spec = JSON.parse(JSON.stringify(rest.spec));
  if (spec.connector?.csv) spec.connector.csv.path = `${CSV_ROOT}/${spec.connector.csv.path}`;
  return { ...rest, metadata: { ...rest.metadata, namespace: NS }, spec };
}

export function hrMa(dir: string, extra: Record<string, unknown> = {}): Obj {
  return asCustomResource(hrAgent(dir, extra));
}

export function directoryMa(dir: string, extra: Record<string, unknown> = {}): Obj {
  const ma = directoryAgent(dir, extra);
  for (const t of ma.spec.objectTypes) t.attributes = t.attributes.filter((a) => a.name !== "manager");
  return asCustomResource(ma);
}

export function hrInboundRule(extra: Record<string, unknown> = {}): Obj {
  return asCustomResource(hrInbound({ scope: undefined, attributeFlows: IN_FLOWS, ...extra }));
}

export function directoryOutboundRule(flows?: Array<{ target: string; expression: string }>): Obj {
  return asCustomResource(directoryOutbound({ attributeFlows: flows ?? OUT_FLOWS }));
}

/** The RetentionPolicy of the engine tests: a person is deleted when disconnected from hr. */
export function personRetention(): Obj {
  return asCustomResource(retention(["hr"]));
}

/** The four CRs most scenarios start from: hr, directory (with `directory` spec extras) and their rules. */
export async function applyHrToDirectory(cluster: Cluster, directory: Record<string, unknown> = {}): Promise<void> {
  for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir, directory), hrInboundRule(), directoryOutboundRule()]) await apply(cluster, o);
}

export interface OperatorScenario {
  readonly cluster: Cluster;
  readonly db: TestDatabase;
  readonly operator: RunningOperator;
}

/**
 * Registers a describe block's hooks for one scenario: a test API server, a fresh database, the
 * scenario's setup (files and CRs before the operator starts), then the operator; torn down in
 * reverse order. The returned object's fields are there once the before hook has run.
 */
export function operatorScenario(database: string, setup: (cluster: Cluster) => Promise<void> = async () => {}): OperatorScenario {
  const state: Partial<{ cluster: Cluster; db: TestDatabase; operator: RunningOperator }> = {};
  before(async () => {
    state.cluster = await startCluster();
    state.db = await testDatabase(database);
    await setup(state.cluster);
    state.operator = startOperator(state.cluster, state.db.url);
  });
  after(async () => {
    await state.operator?.stop();
    await state.db?.drop();
    await state.cluster?.close();
  });
  return {
    get cluster() {
      return state.cluster!;
    },
    get db() {
      return state.db!;
    },
    get operator() {
      return state.operator!;
    },
  };
}

export function writeHr(dir: string, rows: Array<Record<string, string>>): void {
  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, rows);
}

export function writeFile(path: string, text: string): void {
  writeFileSync(path, text);
}

export { person, readCsv } from "../engine/builders.ts";
