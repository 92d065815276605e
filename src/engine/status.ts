// What an MA looks like from outside: connector space counts, pending exports, its last run; and
// the clean-up when an MA is removed (the operator's finalizer).
import type { Database } from "../store/db.ts";
import type { EngineContext } from "./context.ts";
import type { ManagementAgentStatus, RunProfile, RunResult } from "./types.ts";

export async function maStatus(db: Database, ma: string): Promise<ManagementAgentStatus> {
  const cs = (
    await db.query<{ total: number; connectors: number; filtered: number; deleted: number }>(
      `select count(*) as total,
              count(*) filter (where mv_id is not null) as connectors,
              count(*) filter (where link = 'filtered') as filtered,
              count(*) filter (where deleted) as deleted
         from cs_object where ma = $1`,
      [ma],
    )
  ).rows[0];
  const pe = (
    await db.query<{ adds: number; updates: number; deletes: number; errors: number; unconfirmed: number }>(
      `select count(*) filter (where op = 'add' and state <> 'unconfirmed') as adds,
              count(*) filter (where op = 'update' and state <> 'unconfirmed') as updates,
              count(*) filter (where op = 'delete' and state <> 'unconfirmed') as deletes,
              count(*) filter (where state = 'error') as errors,
              count(*) filter (where state = 'unconfirmed') as unconfirmed
         from pending_export where ma = $1`,
      [ma],
    )
  ).rows[0];
  const last = (
    await db.query<{ id: number; profile: string; status: string; counts: RunResult["counts"]; message: string | null; blocked_deletes: number; started_at: Date | string; finished_at: Date | string | null }>(
      `select id, profile, status, counts, message, blocked_deletes, started_at, finished_at from run_history
        where ma = $1 and finished_at is not null order by id desc limit 1`,
      [ma],
    )
  ).rows[0];
  const lastBlocked = (
    await db.query<{ blocked_deletes: number }>(
      `select blocked_deletes from run_history where ma = $1 and profile = 'export' and finished_at is not null order by id desc limit 1`,
      [ma],
    )
  ).rows[0];
  // An import that held its deletes (threshold, or source empty) holds until an import goes through.
  const lastImport = (
    await db.query<{ profile: RunProfile; status: string; blocked_deletes: number; message: string | null }>(
      `select profile, status, blocked_deletes, message from run_history
        where ma = $1 and profile in ('full-import', 'delta-import') and finished_at is not null and status not in ('failed', 'abandoned')
        order by id desc limit 1`,
      [ma],
    )
  ).rows[0];
  const heldImport =
    lastImport && (lastImport.status === "stopped-deletion-threshold" || lastImport.status === "stopped-source-empty")
      ? { profile: lastImport.profile, deletes: lastImport.blocked_deletes, reason: lastImport.message ?? lastImport.status }
      : undefined;
  const iso = (d: Date | string | null) => (d === null ? "" : new Date(d).toISOString());
  return {
    name: ma,
    connectorSpace: {
      total: cs.total,
      connectors: cs.connectors,
      disconnectors: cs.total - cs.connectors,
      filtered: cs.filtered,
      deleted: cs.deleted,
    },
    pendingExports: pe,
    // Still held only while deletes are pending; a later release or a changed plan clears it.
    blockedDeletes: Math.max(heldImport?.deletes ?? 0, lastBlocked && pe.deletes > 0 ? Math.min(lastBlocked.blocked_deletes, pe.deletes) : 0),
    heldImport,
    lastRun: last
      ? {
          runId: String(last.id),
          ma,
          profile: last.profile as RunProfile,
          status: last.status as RunResult["status"],
          counts: last.counts,
          startedAt: iso(last.started_at),
          finishedAt: iso(last.finished_at),
          durationMs: last.finished_at ? new Date(last.finished_at).getTime() - new Date(last.started_at).getTime() : 0,
          message: last.message ?? undefined,
          blockedDeletes: last.blocked_deletes || undefined,
          errors: [],
        }
      : undefined,
  };
}

/**
 * Removes an MA's connector space. Its objects are treated as deleted from the connected system and
 * synced, so connectors are disconnected and object deletion rules apply as declared; then the
 * connector space, its pending exports and its watermark are dropped.
 */
export async function removeManagementAgent(
  ctx: EngineContext,
  ma: string,
  run: (ma: string, profile: RunProfile) => Promise<RunResult>,
): Promise<void> {
  if (ctx.config.mas.has(ma)) {
    await ctx.db.query(`update cs_object set deleted = true, pending_import = 'delete' where ma = $1`, [ma]);
    const result = await run(ma, "delta-sync");
    if (result.status === "failed") throw new Error(`removing ${ma}: ${result.message}`);
  }
  await ctx.db.transaction(async (tx) => {
    await tx.query(`delete from cs_object where ma = $1`, [ma]);
    await tx.query(`delete from watermark where ma = $1`, [ma]);
    await tx.query(`delete from full_sync_request where ma = $1`, [ma]);
  });
}
