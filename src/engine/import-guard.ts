// The import's guards against losing identities to a broken source: a source that reads as empty
// while the connector space holds objects is held ("source empty"), and deletes past the MA's
// deletion threshold are held before anything is marked deleted (so the metaverse never sees
// them). Both say in the run's message how to release them, once.
import { presentObjects, type Queryable } from "../store/index.ts";
import { judgeDeletes } from "./threshold.ts";
import type { EngineContext } from "./context.ts";
import type { RunRecorder } from "./run.ts";

/** Nothing of this MA was ever imported, nor exported and awaiting confirmation. */
export async function neverReadOrWritten(ctx: EngineContext, ma: string): Promise<boolean> {
  if ((ctx.config.mas.get(ma)?.outbound.length ?? 0) === 0) return false; // a pure source: the engine never creates it
  const r = await ctx.db.query(
    `select 1 from cs_object c where c.ma = $1 and (c.imported_at is not null or exists (select 1 from pending_export p where p.cs_id = c.id and p.state = 'unconfirmed')) limit 1`,
    [ma],
  );
  return r.rows.length === 0;
}

/**
 * A full read that found nothing at all while the connector space holds objects: an HR export that
 * came out empty, a view that lost its grant. Held as "source empty" (nothing deleted) unless the
 * MA declares allowEmpty or the run is released with --allow-deletes.
 */
export async function heldAsEmpty(ctx: EngineContext, ma: string, records: number, run: RunRecorder, profile: string): Promise<boolean> {
  if (records > 0 || ctx.config.mas.get(ma)?.allowEmpty || ctx.options.allowDeletes) return false;
  const present = await presentObjects(ctx.db, ma);
  if (present === 0) return false;
  run.status = "stopped-source-empty";
  run.blockedDeletes = present;
  run.message =
    `source empty: ${ma} returned no object while its connector space holds ${present}; nothing was deleted and the metaverse keeps them. ` +
    `If ${ma} really is empty now, release it once with \`idsync run ${ma} ${profile} --allow-deletes\` (operator: annotate the ManagementAgent ` +
    `idsync.dev/allow-deletes="${present}"), or declare allowEmpty: true`;
  return true;
}

/** The deletion guard for what an import would mark deleted; true when the deletes may go ahead. */
/**
 * `q`: the transaction the caller holds, if any. Reading through ctx.db beside an open transaction
 * deadlocks the embedded database (PGlite has one connection, which the transaction holds).
 */
export async function deletesAllowed(ctx: EngineContext, ma: string, deletes: number, run: RunRecorder, profile: string, q: Queryable = ctx.db): Promise<boolean> {
  if (deletes === 0 || ctx.options.allowDeletes) return true;
  const total = await presentObjects(q, ma);
  const verdict = judgeDeletes(ctx.config.mas.get(ma)!.threshold, deletes, total);
  if (!verdict.exceeded) return true;
  run.status = "stopped-deletion-threshold";
  run.blockedDeletes = deletes;
  run.message =
    `deletion threshold: this import would delete ${deletes} of ${total} objects of ${ma} (${verdict.reason}); none was deleted and the metaverse keeps them. ` +
    `If the source is right, release them once with \`idsync run ${ma} ${profile} --allow-deletes\` (operator: annotate the ManagementAgent ` +
    `idsync.dev/allow-deletes="${deletes}")`;
  return false;
}

