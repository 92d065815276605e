// Export: apply an MA's pending exports through its connector, in batches (adds, then updates, then
// deletes). A success becomes an unconfirmed export until the next import confirms it (a delete
// the connector reports as confirmed, the system having answered that the object is gone, is
// settled at once); a failure stays pending with its error. The deletion threshold is checked
// before the first delete is sent. Adds and updates that reference an add of this run are sent
// after the others, without references to adds that failed (export-refs.ts).
import type { Connector, ExportOperation, ExportResult, ValueChange } from "../connectors/types.ts";
import { normalizeDN } from "../expr/dn.ts";
import type { Attributes } from "../expr/index.ts";
import { markDirty, presentObjects, settleConfirmedDeletes } from "../store/index.ts";
import { checkCancelled, chunks, type EngineContext } from "./context.ts";
import { prepareBatch, referencePlan } from "./export-refs.ts";
import { referrersOf } from "./outbound.ts";
import type { RunRecorder } from "./run.ts";
import { judgeDeletes } from "./threshold.ts";

export interface ExportRow {
  cs_id: number;
  op: "add" | "update" | "delete";
  /** The pending export's state before this run sent it. */
  state: "pending" | "error";
  mv_id: number | null;
  new_dn: string | null;
  changes: Attributes;
  object_type: string;
  anchor: string | null;
  dn: string | null;
  attrs: Attributes;
}

export interface ThresholdCheck {
  deletes: number;
  total: number;
  exceeded: boolean;
  reason?: string;
}

export async function checkDeletionThreshold(ctx: EngineContext, maName: string): Promise<ThresholdCheck> {
  const ma = ctx.config.mas.get(maName)!;
  const r = await ctx.db.query<{ deletes: number }>(
    `select count(*) as deletes from pending_export where ma = $1 and op = 'delete' and state <> 'unconfirmed'`,
    [maName],
  );
  const deletes = r.rows[0].deletes;
  const total = await presentObjects(ctx.db, maName);
  return { deletes, total, ...judgeDeletes(ma.threshold, deletes, total) };
}

export async function runExport(ctx: EngineContext, maName: string, connector: Connector, run: RunRecorder): Promise<void> {
  const ma = ctx.config.mas.get(maName)!;
  if (ma.stagingMode) {
    const n = (await ctx.db.query<{ n: number }>(`select count(*) as n from pending_export where ma = $1 and state <> 'unconfirmed'`, [maName])).rows[0].n;
    run.status = "staging";
    run.message = `staging mode: ${n} pending export(s) held, nothing sent`;
    return;
  }
  const threshold = await checkDeletionThreshold(ctx, maName);
  const holdDeletes = threshold.exceeded && !ctx.options.allowDeletes;
  if (holdDeletes) {
    run.blockedDeletes = threshold.deletes;
    run.status = "stopped-deletion-threshold";
    run.message = `deletion threshold: ${threshold.reason}; no delete was sent. Review the pending deletes, then release them once with --allow-deletes`;
  }
  if (connector.snapshotAfterExport) {
    await ctx.db.query(`delete from watermark where ma = $1`, [maName]);
  }
  const pending = (
    await ctx.db.query<{ cs_id: number; op: string }>(
      `select cs_id, op from pending_export where ma = $1 and state <> 'unconfirmed' ${holdDeletes ? "and op <> 'delete'" : ""}
        order by case op when 'add' then 0 when 'update' then 1 else 2 end, cs_id`,
      [maName],
    )
  ).rows;
  const ids = pending.map((r) => r.cs_id);
  const batchSize = Math.max(1, Math.min(connector.exportBatchSize ?? ctx.batchSize, 1_000_000));
  const refs = referencePlan(ctx, maName);
  const load = async (batch: number[]) =>
    (
      await ctx.db.query<ExportRow>(
        `select p.cs_id, p.op, p.state, p.new_dn, p.changes, c.object_type, c.anchor, c.dn, c.attrs, c.mv_id
           from pending_export p join cs_object c on c.id = p.cs_id
          where p.cs_id = any($1::bigint[]) and p.state <> 'unconfirmed'
          order by case p.op when 'add' then 0 when 'update' then 1 else 2 end, p.cs_id`,
        [batch],
      )
    ).rows;
  let done = 0;
  const send = async (rows: ExportRow[], skipped: number): Promise<boolean> => {
    const ops = rows.map(toOperation);
    let results: ExportResult[];
    let unavailable: Error | undefined;
    try {
      results = await connector.export(ops);
    } catch (e) {
      // The system is unreachable: record what did complete; the rest stays pending for the next run.
      unavailable = e as Error;
      results = ((e as { partialResults?: ExportResult[] }).partialResults ?? []) as ExportResult[];
    }
    await record(ctx, rows, results, run);
    await run.flushErrors();
    done += rows.length + skipped;
    ctx.options.onProgress?.(done, ids.length, `export ${maName}`);
    if (!unavailable) return true;
    run.status = "failed";
    run.message = `${maName} is unavailable: ${unavailable.message}; ${ids.length - done + (rows.length - results.length)} export(s) stay pending`;
    return false;
  };
  // Adds and updates; then those that waited for an add of this run (export-refs.ts); deletes last.
  const sent = new Set<number>();
  let list = pending.filter((r) => r.op !== "delete").map((r) => r.cs_id);
  for (let force = false; list.length > 0; force = true) {
    const waiting: number[] = [];
    for (const batch of chunks(list, batchSize)) {
      checkCancelled(ctx);
      let rows = await load(batch);
      let skipped = 0;
      if (refs) {
        const prepared = await prepareBatch(ctx.db, refs, rows, sent, force);
        waiting.push(...prepared.wait);
        rows = prepared.send;
        skipped = prepared.dropped;
      }
      if (rows.length === 0) done += skipped;
      else if (!(await send(rows, skipped))) return;
      for (const r of rows) sent.add(r.cs_id);
    }
    list = waiting;
  }
  for (const batch of chunks(pending.filter((r) => r.op === "delete").map((r) => r.cs_id), batchSize)) {
    checkCancelled(ctx);
    const rows = await load(batch);
    if (rows.length > 0 && !(await send(rows, 0))) return;
  }
}

function toOperation(r: ExportRow): ExportOperation {
  const base = { id: String(r.cs_id), objectType: r.object_type, anchor: r.anchor ?? undefined, dn: r.dn ?? undefined };
  if (r.op === "add") return { op: "add", ...base, attrs: r.changes };
  if (r.op === "delete") return { op: "delete", ...base };
  const changes: Record<string, ValueChange> = {};
  for (const [attr, value] of Object.entries(r.changes)) {
    changes[attr] = r.attrs[attr] !== undefined ? { replace: value, previous: r.attrs[attr] } : { replace: value };
  }
  return { op: "update", ...base, newDn: r.new_dn ?? undefined, changes };
}

async function record(ctx: EngineContext, rows: ExportRow[], results: ExportResult[], run: RunRecorder): Promise<void> {
  const byId = new Map(rows.map((r) => [String(r.cs_id), r]));
  const ok: Array<{ id: number; anchor: string | null; dn: string | null; dn_norm: string | null }> = [];
  const failed: Array<{ id: number; error: string }> = [];
  // Deletes the connector's answer already proves done (ExportResult.confirmed): settled now, as a
  // full import's sweep settles a confirmed delete, instead of waiting for an import that may never
  // see it (an LDAP delta import without accesslog does not report deletions).
  const confirmedDeletes: number[] = [];
  // MV objects whose add failed for the first time, or succeeded after failing: a failed add is
  // no reference target (outbound.ts), so what references them is recomputed (the group without
  // the member whose account could not be made, then with it once it is made).
  const flipped: number[] = [];
  for (const res of results) {
    const row = byId.get(res.id);
    if (!row) continue;
    if (row.op === "add" && row.mv_id !== null && res.ok === (row.state === "error")) flipped.push(row.mv_id);
    if (res.ok) {
      const dn = res.dn ?? row.new_dn ?? row.dn;
      if (row.op === "delete" && res.confirmed) {
        confirmedDeletes.push(row.cs_id);
        run.counts.confirmed++;
      } else {
        ok.push({ id: row.cs_id, anchor: res.anchor ?? row.anchor, dn, dn_norm: dn ? normalizeDN(dn) : null });
      }
      run.counts.exported++;
      if (row.op === "add") run.counts.adds++;
      else if (row.op === "delete") run.counts.deletes++;
      else {
        if (row.new_dn) run.counts.renames++;
        if (Object.keys(row.changes).length > 0) run.counts.updates++;
      }
    } else {
      failed.push({ id: row.cs_id, error: JSON.stringify({ code: res.code, message: res.message, retryable: res.retryable }) });
      run.error({ csId: String(row.cs_id), anchor: row.anchor ?? undefined, dn: row.dn ?? undefined, code: res.code, message: res.message });
    }
  }
  await ctx.db.transaction(async (tx) => {
    if (ok.length > 0) {
      const json = JSON.stringify(ok);
      await tx.query(
        `update pending_export p set state = 'unconfirmed', exported_at = now(), updated_at = now(), error = null, attempts = p.attempts + 1
           from jsonb_to_recordset($1::jsonb) as v(id bigint) where p.cs_id = v.id`,
        [json],
      );
      await tx.query(
        `update cs_object c set anchor = coalesce(v.anchor, c.anchor), dn = v.dn, dn_norm = v.dn_norm
           from jsonb_to_recordset($1::jsonb) as v(id bigint, anchor text, dn text, dn_norm text) where c.id = v.id`,
        [json],
      );
    }
    await settleConfirmedDeletes(tx, confirmedDeletes);
    if (failed.length > 0) {
      await tx.query(
        `update pending_export p set state = 'error', error = v.error::jsonb, attempts = p.attempts + 1, updated_at = now()
           from jsonb_to_recordset($1::jsonb) as v(id bigint, error text) where p.cs_id = v.id`,
        [JSON.stringify(failed)],
      );
    }
    if (flipped.length > 0) await markDirty(tx, await referrersOf(tx, ctx, flipped));
  });
}
