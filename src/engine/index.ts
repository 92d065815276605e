// The engine's public surface: apply a configuration, run profiles and cycles, report status.
// It knows no Kubernetes and no CLI; the operator and the CLI are thin layers over this.
import { createHash } from "node:crypto";
import type { AnyResource, ConfigSet, ManagementAgent, RetentionPolicy, SyncRule } from "../config/model.ts";
import type { PathPolicy } from "../config/paths.ts";
import type { Database } from "../store/db.ts";
import { ensureJoinIndex } from "../store/queries.ts";
import { ensureUniqueIndexes } from "../store/unique.ts";
import { processHolder, runLocksFor } from "../store/lock.ts";
import { createConnector, type SecretResolver } from "./connectors.ts";
import type { EngineContext } from "./context.ts";
import { runExport } from "./export.ts";
import { runImport } from "./import.ts";
import { canonical } from "./inbound.ts";
import { compileConfig, type CompiledConfig } from "./rules.ts";
import { everything, lockKeysFor, markAbandoned, masCoveredBy, METAVERSE_LOCK } from "./locks.ts";
import { RunRecorder } from "./run.ts";
import { runSync } from "./sync.ts";
import { maStatus, removeManagementAgent } from "./status.ts";
import { objectErrorKey } from "./types.ts";
import type {
  ApplyResult,
  CycleResult,
  ManagementAgentStatus,
  RunOptions,
  RunProfile,
  RunResult,
  RunStatus,
} from "./types.ts";

export * from "./types.ts";
export type { SecretResolver };

export interface EngineOptions {
  database: Database;
  /** Resolves connector credentials; the default reads IDSYNC_SECRET_<NAME>_<KEY>. */
  secrets?: SecretResolver;
  /**
   * Where connectors' files may lie: the CLI's configuration folder (and --allow-paths), the
   * operator's CSV roots (config/paths.ts). Absent: anywhere (tests, library use).
   */
  paths?: PathPolicy;
  now?: () => Date;
  batchSize?: number;
  /**
   * How long a run waits for another run (of this or another process) that holds its locks; 0,
   * the default, fails at once with a LockBusyError saying who holds them since when.
   */
  lockWaitMs?: number;
  /** How this process names itself to others that find its locks ("idsync operator"). */
  holderName?: string;
  /**
   * Tests only: the initial password directory connectors give new accounts (so a test can bind
   * as one); otherwise each gets a random one that nobody ever sees.
   */
  initialPassword?: () => string;
}

export interface CycleOptions extends RunOptions {
  /** Use full-import and full-sync instead of the delta profiles. */
  full?: boolean;
  /** At most this many import → sync → export passes (default 5). */
  maxPasses?: number;
}

export interface Engine {
  readonly database: Database;
  /** The applied configuration (undefined before the first apply). */
  config(): ConfigSet | undefined;
  apply(config: ConfigSet): Promise<ApplyResult>;
  run(ma: string, profile: RunProfile, opts?: RunOptions): Promise<RunResult>;
  cycle(opts?: CycleOptions): Promise<CycleResult>;
  status(ma: string): Promise<ManagementAgentStatus>;
  removeManagementAgent(ma: string): Promise<void>;
  /**
   * Runs fn holding every run lock (the metaverse and every MA): for work that touches everything
   * outside a run, such as an erasure or a retention pass. Runs started inside fn take nothing more.
   */
  exclusive<T>(what: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function envSecretResolver(): SecretResolver {
  return async (name, key) => {
    const variable = `IDSYNC_SECRET_${name}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
    const v = process.env[variable];
    if (v === undefined) throw new Error(`secret ${name}/${key} not found (set ${variable})`);
    return v;
  };
}

export async function openEngine(opts: EngineOptions): Promise<Engine> {
  const db = opts.database;
  const now = opts.now ?? (() => new Date());
  const secrets = opts.secrets ?? envSecretResolver();
  // IDSYNC_BATCH_SIZE: for tests that need many batches from a small data set (kill points).
  const batchSize = opts.batchSize ?? (Number(process.env.IDSYNC_BATCH_SIZE) || 5000);
  const locks = runLocksFor(db, processHolder(opts.holderName));
  const lockWait = { waitMs: opts.lockWaitMs ?? 0 };
  let applied = await loadApplied(db);
  let compiled: CompiledConfig | undefined = applied ? compileConfig(applied) : undefined;

  const context = (options: RunOptions): EngineContext => {
    if (!compiled) throw new Error("no configuration has been applied yet: run `idsync apply -f DIR` first");
    return { db, config: compiled, now, batchSize, options, lockLost: () => locks.lost() };
  };
  const allMas = () => [...(compiled?.mas.keys() ?? [])];

  async function run(ma: string, profile: RunProfile, options: RunOptions = {}): Promise<RunResult> {
    const ctx = context(options);
    if (!ctx.config.mas.has(ma)) throw new Error(`management agent '${ma}' is not applied (applied: ${[...ctx.config.mas.keys()].join(", ") || "none"})`);
    const keys = lockKeysFor(profile, ma, ctx.config.mas.keys());
    return locks.with(keys, { ...lockWait, signal: options.signal, what: `${profile} of ${ma}` }, async () => {
      await markAbandoned(db, masCoveredBy(keys), now(), `${profile} of ${ma}`);
      return runLocked(ctx, ma, profile);
    });
  }

  async function runLocked(ctx: EngineContext, ma: string, profile: RunProfile): Promise<RunResult> {
    const compiledMa = ctx.config.mas.get(ma)!;
    const recorder = await RunRecorder.start(db, ma, profile, now());
    recorder.onError = ctx.options.onObjectError;
    try {
      if (profile === "full-sync" || profile === "delta-sync") {
        await runSync(ctx, ma, profile === "full-sync" ? "full" : "delta", recorder);
        if (profile === "full-sync") await db.query(`delete from full_sync_request where ma = $1`, [ma]);
      } else {
        const connector = await createConnector(compiledMa, secrets, opts.paths, opts.initialPassword);
        try {
          if (profile === "export") await runExport(ctx, ma, connector, recorder);
          else await runImport(ctx, ma, profile === "full-import" ? "full" : "delta", connector, recorder);
        } finally {
          await connector.close();
        }
      }
      return await recorder.finish(now());
    } catch (e) {
      // Locks lost with their connection usually mean the database went away: say that instead.
      const cause = ctx.lockLost?.() ? await db.query("select 1").then(() => e, (dbError: unknown) => dbError) : e;
      recorder.message = (cause as Error).message;
      return await recorder.finish(now(), "failed");
    }
  }

  async function cycle(opts0: CycleOptions = {}): Promise<CycleResult> {
    let options = opts0;
    const ctx = context(options);
    const mas = [...ctx.config.mas.values()]
      .sort((a, b) => Number(b.inbound.some((r) => r.projection)) - Number(a.inbound.some((r) => r.projection)) || a.name.localeCompare(b.name))
      .map((m) => m.name);
    const runs: RunResult[] = [];
    let changed = false;
    let passes = 0;
    let allowDeletes = options.allowDeletes;
    const maxPasses = options.maxPasses ?? 5;
    // Distinct failing objects per MA: the same export error met in every pass counts once.
    const failing = new Map<string, Set<string>>();
    options = {
      ...options,
      onObjectError: (e, profile) => {
        const set = failing.get(e.ma) ?? new Set<string>();
        set.add(objectErrorKey(e, profile));
        failing.set(e.ma, set);
        opts0.onObjectError?.(e, profile);
      },
    };
    while (passes < maxPasses) {
      passes++;
      let passChanged = false;
      let exported = 0;
      const record = (r: RunResult) => {
        runs.push(r);
        const c = r.counts;
        if (c.adds + c.updates + c.deletes + c.renames + c.joins + c.projections + c.provisions + c.deprovisions + c.disconnects + c.exported > 0) passChanged = true;
        exported += c.exported;
      };
      for (const ma of mas) {
        const everImported = (await db.query(`select 1 from run_history where ma = $1 and profile in ('full-import','delta-import') and status not in ('failed', 'abandoned', 'running') limit 1`, [ma])).rows.length > 0;
        record(await run(ma, options.full || !everImported ? "full-import" : "delta-import", options));
      }
      const fullRequests = new Set((await db.query<{ ma: string }>(`select ma from full_sync_request`)).rows.map((r) => r.ma));
      let synced = false;
      for (const ma of mas) {
        const full = options.full || fullRequests.has(ma);
        if (!full) {
          const pending = await db.query(`select 1 from cs_object where ma = $1 and pending_import is not null limit 1`, [ma]);
          if (pending.rows.length === 0) continue;
        }
        record(await run(ma, full ? "full-sync" : "delta-sync", options));
        synced = true;
      }
      // MV objects marked for recomputation outside a sync (by an export: what references an add
      // that failed, or that succeeded after failing) are settled by any sync: one, if none ran.
      if (!synced && mas.length > 0 && (await db.query(`select 1 from mv_object where dirty limit 1`)).rows.length > 0) {
        record(await run(mas[0], "delta-sync", options));
      }
      for (const ma of mas) {
        const pending = await db.query(`select 1 from pending_export where ma = $1 and state <> 'unconfirmed' limit 1`, [ma]);
        if (pending.rows.length === 0) continue;
        record(await run(ma, "export", { ...options, allowDeletes }));
      }
      allowDeletes = false; // released once, not for every pass
      options = { ...options, full: false, allowDeletes: false };
      changed ||= passChanged;
      if (exported === 0) break;
    }
    const objectErrors = Object.fromEntries([...failing].map(([ma, set]) => [ma, set.size]));
    return { runs, passes, changed, status: worst(runs.map((r) => r.status)), objectErrors };
  }

  return {
    database: db,
    config: () => applied,
    async apply(config) {
      const next = compileConfig(config); // throws on an invalid configuration: nothing is stored
      // Not in the middle of another process's sync: it would finish under the old rules and then
      // clear the full-sync request this apply records.
      return locks.with([METAVERSE_LOCK], { ...lockWait, what: "apply configuration" }, async () => {
        const result = await storeApplied(db, config, next);
        for (const rule of next.inboundByName.values()) {
          for (const j of rule.join) await ensureJoinIndex(db, rule.mvType, j.metaverse);
        }
        // Who holds a unique value is looked up per batch through these (store/unique.ts).
        for (const rule of next.outbound) for (const f of rule.flows) if (f.unique) await ensureUniqueIndexes(db, rule.ma, rule.targetType, f.target);
        applied = config;
        compiled = next;
        return result;
      });
    },
    run,
    cycle,
    status: (ma) => maStatus(db, ma),
    async removeManagementAgent(ma) {
      await locks.with(everything(allMas(), ma), { ...lockWait, what: `removal of ${ma}` }, () =>
        removeManagementAgent(context({}), ma, async (name, profile) => run(name, profile)),
      );
    },
    exclusive: (what, fn) => locks.with(everything(allMas()), { ...lockWait, what }, fn),
    async close() {
      await locks.close();
      await db.close();
    },
  };
}

function worst(statuses: RunStatus[]): RunStatus {
  const order: RunStatus[] = ["failed", "stopped-source-empty", "stopped-deletion-threshold", "completed-with-errors", "staging", "success"];
  for (const s of order) if (statuses.includes(s)) return s;
  return "success";
}

function hashSpec(spec: unknown): string {
  return createHash("sha256").update(canonical(spec)).digest("hex");
}

async function loadApplied(db: Database): Promise<ConfigSet | undefined> {
  const rows = (await db.query<{ kind: string; name: string; spec: unknown; source: unknown; generation: number | null }>(
    `select kind, name, spec, source, generation from applied_config order by kind, name`,
  )).rows;
  if (rows.length === 0) return undefined;
  const config: ConfigSet = { managementAgents: [], syncRules: [], retentionPolicies: [] };
  for (const r of rows) {
    const res = {
      apiVersion: "idsync.dev/v1alpha1",
      kind: r.kind,
      metadata: { name: r.name, generation: r.generation ?? undefined },
      spec: r.spec,
      source: r.source ?? undefined,
    } as AnyResource;
    if (r.kind === "ManagementAgent") config.managementAgents.push(res as ManagementAgent);
    else if (r.kind === "SyncRule") config.syncRules.push(res as SyncRule);
    else config.retentionPolicies.push(res as RetentionPolicy);
  }
  return config;
}

async function storeApplied(db: Database, config: ConfigSet, compiled: CompiledConfig): Promise<ApplyResult> {
  const resources: AnyResource[] = [...config.managementAgents, ...config.syncRules, ...config.retentionPolicies];
  const before = new Map(
    (await db.query<{ kind: string; name: string; hash: string; spec: unknown }>(`select kind, name, hash, spec from applied_config`)).rows.map((r) => [
      `${r.kind}/${r.name}`,
      r,
    ]),
  );
  const changed: ApplyResult["changed"] = [];
  const seen = new Set<string>();
  for (const r of resources) {
    const key = `${r.kind}/${r.metadata.name}`;
    seen.add(key);
    const old = before.get(key);
    if (!old) changed.push({ kind: r.kind, name: r.metadata.name, change: "added" });
    else if (old.hash !== hashSpec(r.spec)) changed.push({ kind: r.kind, name: r.metadata.name, change: "changed" });
  }
  for (const [key, old] of before) if (!seen.has(key)) changed.push({ kind: old.kind, name: old.name, change: "removed" });

  // Which connector spaces must be fully re-synced so the change reaches every object.
  const needs = new Set<string>();
  const oldSpec = (kind: string, name: string) => before.get(`${kind}/${name}`)?.spec as { managementAgent?: string; direction?: string } | undefined;
  const inboundMas = [...compiled.mas.values()].filter((m) => m.inbound.length > 0).map((m) => m.name);
  for (const c of changed) {
    if (c.kind === "ManagementAgent" && c.change !== "removed") needs.add(c.name);
    if (c.kind === "SyncRule") {
      const rule = config.syncRules.find((r) => r.metadata.name === c.name)?.spec ?? oldSpec(c.kind, c.name);
      if (!rule?.managementAgent) continue;
      if (rule.direction === "inbound") needs.add(rule.managementAgent);
      // Provisioning must see every metaverse object: they are reached through the source MAs.
      else for (const m of [rule.managementAgent, ...inboundMas]) needs.add(m);
    }
    if (c.kind === "RetentionPolicy") inboundMas.forEach((m) => needs.add(m));
  }
  const needsFullSync = [...needs].filter((m) => compiled.mas.has(m)).sort();
  await db.transaction(async (tx) => {
    for (const r of resources) {
      await tx.query(
        `insert into applied_config (kind, name, generation, spec, source, hash, applied_at) values ($1, $2, $3, $4::jsonb, $5::jsonb, $6, now())
         on conflict (kind, name) do update set generation = excluded.generation, spec = excluded.spec, source = excluded.source,
           hash = excluded.hash, applied_at = case when applied_config.hash = excluded.hash then applied_config.applied_at else now() end`,
        [r.kind, r.metadata.name, r.metadata.generation ?? null, JSON.stringify(r.spec), r.source ? JSON.stringify(r.source) : null, hashSpec(r.spec)],
      );
    }
    for (const c of changed.filter((x) => x.change === "removed")) {
      await tx.query(`delete from applied_config where kind = $1 and name = $2`, [c.kind, c.name]);
    }
    for (const ma of needsFullSync) {
      await tx.query(`insert into full_sync_request (ma, reason) values ($1, 'configuration changed') on conflict (ma) do nothing`, [ma]);
    }
  });
  return { changed, needsFullSync };
}
