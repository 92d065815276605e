// RetentionPolicy enforcement: what the engine keeps only for a while.
//   - metaverse objects deleted more than `gracePeriod` ago (per metaverse type; default 30 days,
//     MIM's default retention) are purged with their lineage; references to them are detached;
//   - disconnected connector-space objects (once connected, disconnected more than the grace period
//     ago, nothing pending) are purged; one that is still in its system comes back as a fresh
//     disconnector with the next full import (the source still holds it: see README);
//   - run history older than `runHistory.keep` (default 90 days; the shortest declared wins) is
//     purged with its errors, except the latest run of each MA and profile, which status and the
//     choice between delta and full import read (its errors are purged all the same).
// Every decision compares against the `now` passed in (the engine's clock), never the database's.
import { parseDuration } from "../config/duration.ts";
import type { ConfigSet } from "../config/model.ts";
import { recordAudit } from "../privacy/audit.ts";
import type { Database } from "../store/db.ts";
import { detachReferences } from "./detach.ts";
import { compileConfig } from "./rules.ts";

export const DEFAULT_GRACE_PERIOD = "30d";
export const DEFAULT_RUN_HISTORY_KEEP = "90d";

export interface RetentionResult {
  dryRun: boolean;
  /** Per metaverse type: objects deleted before this instant are purged. */
  graceCutoffs: Record<string, string>;
  connectorSpaceCutoff: string;
  runHistoryCutoff: string;
  purged: { metaverseObjects: number; connectorSpaceObjects: number; runs: number; runErrors: number; referencingObjects: number };
}

export interface RetentionOptions {
  now: Date;
  dryRun?: boolean;
  actor: string;
}

const BATCH = 5000;

export async function enforceRetention(db: Database, config: ConfigSet | undefined, opts: RetentionOptions): Promise<RetentionResult> {
  const policies = config?.retentionPolicies ?? [];
  const grace = (type: string) => parseDuration(policies.find((p) => p.spec.metaverseObjectType === type)?.spec.gracePeriod ?? DEFAULT_GRACE_PERIOD);
  const shortest = (values: Array<string | undefined>, fallback: string) =>
    Math.min(...[...values.filter((v): v is string => !!v), ...(values.some(Boolean) ? [] : [fallback])].map(parseDuration));
  const at = (ms: number) => new Date(opts.now.getTime() - ms);
  const csCutoff = at(shortest(policies.map((p) => p.spec.gracePeriod), DEFAULT_GRACE_PERIOD));
  const runCutoff = at(shortest(policies.map((p) => p.spec.runHistory?.keep), DEFAULT_RUN_HISTORY_KEEP));

  const types = (await db.query<{ object_type: string }>(`select distinct object_type from mv_object where deleted_at is not null`)).rows.map((r) => r.object_type);
  const graceCutoffs: Record<string, string> = {};
  for (const t of types.sort()) graceCutoffs[t] = at(grace(t)).toISOString();
  const result: RetentionResult = {
    dryRun: opts.dryRun === true,
    graceCutoffs,
    connectorSpaceCutoff: csCutoff.toISOString(),
    runHistoryCutoff: runCutoff.toISOString(),
    purged: { metaverseObjects: 0, connectorSpaceObjects: 0, runs: 0, runErrors: 0, referencingObjects: 0 },
  };
  const compiled = config ? compileConfig(config) : undefined;

  for (const [type, cutoff] of Object.entries(graceCutoffs)) {
    const ids = (await db.query<{ id: number }>(`select id from mv_object where object_type = $1 and deleted_at < $2::timestamptz order by id`, [type, cutoff])).rows.map((r) => r.id);
    result.purged.metaverseObjects += ids.length;
    if (opts.dryRun) continue;
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      await db.transaction(async (tx) => {
        result.purged.referencingObjects += await detachReferences(tx, compiled, batch);
        await tx.query(`delete from mv_object where id = any($1::bigint[])`, [batch]);
      });
    }
  }

  const disconnected = `mv_id is null and link in ('normal', 'filtered') and disconnected_at < $1::timestamptz
    and not exists (select 1 from pending_export p where p.cs_id = cs_object.id)`;
  if (opts.dryRun) {
    result.purged.connectorSpaceObjects = (await db.query<{ n: number }>(`select count(*) as n from cs_object where ${disconnected}`, [csCutoff.toISOString()])).rows[0].n;
  } else {
    result.purged.connectorSpaceObjects = (await db.query(`delete from cs_object where ${disconnected}`, [csCutoff.toISOString()])).rowCount;
  }

  // The latest run of each MA and profile stays (status and the delta/full choice read it).
  const oldRuns = `started_at < $1::timestamptz and finished_at is not null
    and id not in (select max(id) from run_history where finished_at is not null group by ma, profile)`;
  const oldErrors = `run_id in (select id from run_history where started_at < $1::timestamptz and finished_at is not null)`;
  if (opts.dryRun) {
    result.purged.runErrors = (await db.query<{ n: number }>(`select count(*) as n from run_error where ${oldErrors}`, [runCutoff.toISOString()])).rows[0].n;
    result.purged.runs = (await db.query<{ n: number }>(`select count(*) as n from run_history where ${oldRuns}`, [runCutoff.toISOString()])).rows[0].n;
  } else {
    await db.transaction(async (tx) => {
      result.purged.runErrors = (await tx.query(`delete from run_error where ${oldErrors}`, [runCutoff.toISOString()])).rowCount;
      result.purged.runs = (await tx.query(`delete from run_history where ${oldRuns}`, [runCutoff.toISOString()])).rowCount;
    });
  }

  const p = result.purged;
  if (!opts.dryRun && p.metaverseObjects + p.connectorSpaceObjects + p.runs + p.runErrors > 0) {
    await recordAudit(db, {
      at: opts.now,
      actor: opts.actor,
      action: "retention-purge",
      details: {
        metaverseObjects: p.metaverseObjects,
        connectorSpaceObjects: p.connectorSpaceObjects,
        runs: p.runs,
        runErrors: p.runErrors,
        referencingObjects: p.referencingObjects,
        connectorSpaceCutoff: result.connectorSpaceCutoff,
        runHistoryCutoff: result.runHistoryCutoff,
      },
    });
  }
  return result;
}
