// Settling the metaverse after a sync's link and flow phases: precedence over every connector's
// contributions, the object deletion rules, and the outbound rules, for every MV object marked dirty.
import { checkCancelled, chunks, type EngineContext } from "./context.ts";
import { canonical } from "./inbound.ts";
import { OutboundPass } from "./outbound.ts";
import { resolvePrecedence, type Contribution } from "./precedence.ts";
import { retentionFor } from "./rules.ts";
import type { RunRecorder } from "./run.ts";
import { contributionsOf, dirtyMvIds, markDirty, mvByIds, updateRows, type MvRow, type Queryable } from "../store/index.ts";

/**
 * Level-based: every MV object marked dirty (by this sync, or by one that crashed) gets precedence,
 * the object deletion rules and the outbound rules applied. Deprovisioning can remove connectors,
 * which can trigger a deletion rule, which deprovisions more: repeat while anything is dirty.
 */
export async function settleMetaverse(ctx: EngineContext, run: RunRecorder): Promise<void> {
  for (let pass = 0; pass < 4; pass++) {
    const ids = await dirtyMvIds(ctx.db);
    if (ids.length === 0) return;
    const outbound = new OutboundPass(ctx, run);
    for (const batch of chunks(ids, ctx.batchSize)) {
      checkCancelled(ctx);
      // One transaction and one write per MV object: its new values, deletion, and whether it
      // stays dirty (it lost a connector, so the deletion rules look again on the next pass).
      await ctx.db.transaction(async (tx) => {
        const r = await recomputeBatch(tx, ctx, batch, run);
        const { lost, referrers } = await outbound.batch(tx, batch, r.mvs);
        const now = ctx.now().toISOString();
        await updateRows(
          tx,
          "mv_object",
          { id: "bigint", attrs: "text", lineage: "text", deleted: "boolean", lost: "text", dirty: "boolean" },
          batch.map((id) => ({
            id,
            attrs: r.changed.get(id)?.attrs ?? null,
            lineage: r.changed.get(id)?.lineage ?? null,
            deleted: r.deleted.has(id),
            lost: lost.has(id) ? JSON.stringify([...lost.get(id)!].sort()) : null,
            dirty: lost.has(id) || referrers.has(id),
          })),
          `attrs = coalesce(v.attrs::jsonb, t.attrs), lineage = coalesce(v.lineage::jsonb, t.lineage),
           updated_at = case when v.attrs is null then t.updated_at else '${now}'::timestamptz end,
           deleted_at = case when v.deleted then '${now}'::timestamptz else t.deleted_at end,
           lost_from = case when v.lost is null then null else array(select jsonb_array_elements_text(v.lost::jsonb)) end,
           dirty = v.dirty`,
        );
        const inBatch = new Set(batch);
        await markDirty(tx, [...referrers].filter((id) => !inBatch.has(id)));
      });
      await outbound.afterBatch();
    }
    await outbound.finish();
  }
}

interface Recomputed {
  /** The batch's MV objects as they are now (attrs recomputed, deletions applied in memory). */
  mvs: MvRow[];
  changed: Map<number, { attrs: string; lineage: string }>;
  deleted: Set<number>;
}

/** Precedence and deletion rules for a batch of MV objects, in memory; settle writes the result. */
async function recomputeBatch(tx: Queryable, ctx: EngineContext, batch: number[], run: RunRecorder): Promise<Recomputed> {
  const mvs = await mvByIds(tx, batch);
  const connectors = await contributionsOf(tx, batch);
  const byMv = new Map<number, typeof connectors>();
  for (const c of connectors) {
    const list = byMv.get(c.mv_id!) ?? [];
    list.push(c);
    byMv.set(c.mv_id!, list);
  }
  const now = ctx.now().toISOString();
  const updates: Array<{ id: number; attrs: string; lineage: string }> = [];
  const deletions: number[] = [];
  for (const mv of mvs) {
    if (mv.deleted_at) continue;
    const conns = byMv.get(mv.id) ?? [];
    if (mv.lost_from && shouldDelete(ctx, mv.object_type, conns, new Set(mv.lost_from))) {
      deletions.push(mv.id);
      mv.deleted_at = now;
      run.counts.deletes++;
      continue;
    }
    const contribs: Contribution[] = [];
    for (const c of conns) {
      for (const [rule, values] of Object.entries(c.contrib ?? {})) {
        const r = ctx.config.inboundByName.get(rule);
        if (r) contribs.push({ csId: c.id, ma: c.ma, rule, precedence: r.precedence, values });
      }
    }
    const resolved = resolvePrecedence(contribs);
    if (canonical(resolved.attrs) === canonical(mv.attrs)) continue;
    const lineage: Record<string, unknown> = {};
    for (const [attr, l] of Object.entries(resolved.lineage)) {
      const old = mv.lineage[attr] as { ma?: string; rule?: string; cs?: number; at?: string } | undefined;
      const same = old && old.ma === l.ma && old.rule === l.rule && old.cs === l.cs && canonical(mv.attrs[attr]) === canonical(resolved.attrs[attr]);
      lineage[attr] = { ...l, at: same ? old.at : now };
    }
    updates.push({ id: mv.id, attrs: canonical(resolved.attrs), lineage: canonical(lineage) });
    if (Object.keys(mv.attrs).length > 0) run.counts.updates++; // a fresh projection is not an update
    mv.attrs = resolved.attrs;
    mv.lineage = lineage;
  }
  return {
    mvs,
    changed: new Map(updates.map((u) => [u.id, { attrs: u.attrs, lineage: u.lineage }])),
    deleted: new Set(deletions),
  };
}

function shouldDelete(ctx: EngineContext, mvType: string, connectors: Array<{ ma: string }>, lostIn: Set<string>): boolean {
  const policy = retentionFor(ctx.config, mvType);
  for (const ma of lostIn) {
    if (policy.disconnectedFrom.has(ma) && !connectors.some((c) => c.ma === ma)) return true;
  }
  return policy.lastConnectorRemoved && connectors.length === 0;
}
