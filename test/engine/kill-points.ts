// Aiming a kill -9 at a phase of `idsync cycle`, and finding out where it really landed.
//
// A fixed delay after the start lands wherever the machine's speed puts it. Instead the process is
// watched through the database while it works: run_history says which run (MA and profile) is in
// flight, the metaverse's dirty flags tell a sync's link phase from its settle phase, the target
// file tells an export that has written from one that has not, and pg_stat_activity shows whether
// the process has a write transaction open (its sessions are named idsync/<pid>). The kill is sent
// a chosen delay into the aimed phase; what was in flight is read back afterwards: the runs the
// killed process left `running`.
import type { ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import pg from "pg";
import { listMigrations } from "../../src/store/index.ts";
import { idsync, type Exit } from "./cli-process.ts";

export type Phase = "start-up" | "import" | "sync" | "export";

export type Aim =
  /**
   * Start-up, before the first run. "session": once the process has a database session (on a fresh
   * database, its first write transaction is a migration); "migrated": once the migrations are in
   * (the process then loads, compiles and stores the configuration it applies: too quick a
   * transaction to be caught in flight, so aim a delay into it).
   */
  | { at: "session" | "migrated"; afterMs: number; inTransaction?: boolean }
  | {
      at: "run";
      ma: string;
      /** Which kind of run: "import" matches full-import and delta-import, "sync" both syncs. */
      kind: "import" | "sync" | "export";
      /** The cycle's pass (1 unless given). */
      pass?: number;
      /**
       * sync: "link" (join, projection, inbound flow) or "settle" (precedence, deletion rules,
       * outbound: once the metaverse's dirty count falls); export: "written" (the target file changed).
       */
      stage?: "link" | "settle" | "written";
      /** Delay from the moment the run (and stage) is seen. */
      afterMs: number;
      /** After the delay, wait for the process to have a write transaction open, and kill then. */
      inTransaction?: boolean;
    };

export interface KillPoint {
  name: string;
  /** The phase this point means to hit (for the report; where it landed is measured). */
  phase: Phase;
  aim: Aim;
}

export interface Landing {
  point: string;
  aimed: Phase;
  /** Where the kill landed: the phase of the run the process left `running`. */
  phase: Phase | "between runs" | "not reached";
  /** The run in flight, "hr full-sync (pass 1)". */
  run?: string;
  runId?: number;
  /** A sync's stage (link / settle), an export's (before / after writing), seen just before the kill. */
  stage?: string;
  /** The process had a write transaction open at the last look before the kill. */
  inTransaction: boolean;
  /** Milliseconds from the aimed phase's start to the kill. */
  intoMs?: number;
  exit: Exit;
}

interface RunRow {
  id: number;
  ma: string;
  profile: string;
  status: string;
}

const POLL_MS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function phaseOf(profile: string): Phase {
  return profile.endsWith("import") ? "import" : profile.endsWith("sync") ? "sync" : "export";
}

/**
 * Runs `idsync cycle` (args) and kills it with SIGKILL at the aimed point; returns where it landed.
 * `watch` is the file the export writes (for the "written" stage); `firstMa` is the MA whose import
 * starts every pass of the cycle (to tell pass 2 from pass 1).
 */
export async function killCycleAt(
  url: string,
  args: string[],
  point: KillPoint,
  opts: { env?: NodeJS.ProcessEnv; watch: string; firstMa: string },
): Promise<Landing> {
  const client = new pg.Client({ connectionString: url, application_name: "idsync-test-watcher" });
  await client.connect();
  try {
    const tablesExist = async () => (await client.query<{ t: string | null }>(`select to_regclass('run_history')::text as t`)).rows[0].t !== null;
    const baseline = (await tablesExist()) ? Number((await client.query<{ m: string | null }>(`select max(id) as m from run_history`)).rows[0].m ?? 0) : 0;
    const fileStamp = () => {
      try {
        const s = statSync(opts.watch);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return "none";
      }
    };
    const fileAtStart = fileStamp();
    const migrated = async () =>
      (await client.query<{ t: string | null }>(`select to_regclass('idsync_migration')::text as t`)).rows[0].t === null
        ? 0
        : (await client.query<{ n: number }>(`select count(*)::int as n from idsync_migration`)).rows[0].n;
    const configured = async () => (await migrated()) === listMigrations().length && (await client.query(`select 1 from applied_config limit 1`)).rows.length > 0;

    let child: ChildProcess | undefined;
    let exited = false;
    const running = idsync(args, { env: opts.env, onSpawn: (c) => (child = c) });
    void running.then(() => (exited = true));
    const app = `idsync/${child!.pid}`;

    const aim = point.aim;
    let inTransaction = false;
    let matchedAt: number | undefined; // when the aimed run (and stage) was first seen
    let aimedRunId: number | undefined;
    let maxDirty = 0;
    let stage: string | undefined;
    let killedAt: number | undefined;
    while (!exited) {
      const activity = (
        await client.query<{ sessions: number; writing: boolean }>(
          `select count(*)::int as sessions, coalesce(bool_or(backend_xid is not null and state <> 'idle'), false) as writing
             from pg_stat_activity where application_name = $1`,
          [app],
        )
      ).rows[0];
      inTransaction = activity.writing;
      let ready = false;
      if (aim.at === "session" || aim.at === "migrated") {
        const anyRun = (await tablesExist()) && (await client.query(`select 1 from run_history where id > $1 limit 1`, [baseline])).rows.length > 0;
        if (matchedAt === undefined && activity.sessions > 0 && (aim.at === "session" || (await migrated()) === listMigrations().length)) matchedAt = Date.now();
        // Waiting for a transaction ends when the first run started: the kill then lands in it.
        ready = matchedAt !== undefined && Date.now() - matchedAt >= aim.afterMs && (!aim.inTransaction || inTransaction || anyRun);
      } else if (aim.at === "run" && (await tablesExist())) {
        const runs = (await client.query<RunRow>(`select id::int, ma, profile, status from run_history where id > $1 order by id`, [baseline])).rows;
        const current = runs.find((r) => r.status === "running");
        const pass = passOf(runs, current, opts.firstMa);
        const isAimed = current !== undefined && current.ma === aim.ma && phaseOf(current.profile) === aim.kind && pass === (aim.pass ?? 1);
        if (isAimed) {
          if (aimedRunId !== current.id) {
            aimedRunId = current.id;
            maxDirty = 0;
            matchedAt = undefined;
          }
          let stageOk = true;
          if (aim.kind === "sync") {
            const dirty = (await client.query<{ n: number }>(`select count(*)::int as n from mv_object where dirty`)).rows[0].n;
            const settling = dirty < maxDirty;
            maxDirty = Math.max(maxDirty, dirty);
            stage = settling ? "settle" : "link";
            if (aim.stage === "settle") stageOk = settling;
          } else if (aim.kind === "export") {
            const written = fileStamp() !== fileAtStart;
            stage = written ? "file written" : "before writing the file";
            if (aim.stage === "written") stageOk = written;
          }
          if (stageOk && matchedAt === undefined) matchedAt = Date.now();
        }
        const due = matchedAt !== undefined && Date.now() - matchedAt >= aim.afterMs;
        // Waiting for a transaction ends when the aimed run is over: the kill then lands wherever.
        ready = due && (!aim.inTransaction || inTransaction || !isAimed);
      }
      if (ready) {
        child!.kill("SIGKILL");
        killedAt = Date.now();
        break;
      }
      await sleep(POLL_MS);
    }
    const exit = await running;
    if (killedAt === undefined || exit.signal !== "SIGKILL") return { point: point.name, aimed: point.phase, phase: "not reached", inTransaction: false, exit };

    // PostgreSQL ends the killed process's sessions (rolling back its transaction, releasing its
    // locks) once it notices the closed socket: wait for that, or the next cycle finds them held.
    for (let waited = 0; ; waited += 10) {
      const n = (await client.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where application_name = $1`, [app])).rows[0].n;
      if (n === 0) break;
      if (waited > 30_000) throw new Error(`the killed process's ${n} database session(s) are still there after 30 s`);
      await sleep(10);
    }
    const landing: Landing = { point: point.name, aimed: point.phase, phase: "start-up", inTransaction, exit, intoMs: matchedAt === undefined ? undefined : killedAt - matchedAt };
    if (await tablesExist()) {
      const runs = (await client.query<RunRow>(`select id::int, ma, profile, status from run_history where id > $1 order by id`, [baseline])).rows;
      const left = runs.filter((r) => r.status === "running");
      if (left.length > 1) throw new Error(`one cycle left ${left.length} runs running: ${JSON.stringify(left)}`);
      if (left.length === 1) {
        const r = left[0];
        landing.phase = phaseOf(r.profile);
        landing.run = `${r.ma} ${r.profile} (pass ${passOf(runs, r, opts.firstMa)})`;
        landing.runId = r.id;
        if (aim.at === "run" && r.id === aimedRunId) landing.stage = stage;
      } else if (runs.length > 0) landing.phase = "between runs";
    }
    if (landing.phase === "start-up") {
      landing.stage = (await migrated()) < listMigrations().length ? "migrations not all in" : (await configured()) ? "configuration stored, no run yet" : "migrated, no configuration stored";
    }
    return landing;
  } finally {
    await client.end();
  }
}

/** The pass a run belongs to: how many imports of the cycle's first MA started up to it. */
function passOf(runs: RunRow[], run: RunRow | undefined, firstMa: string): number {
  if (!run) return 0;
  return runs.filter((r) => r.id <= run.id && r.ma === firstMa && phaseOf(r.profile) === "import").length;
}
