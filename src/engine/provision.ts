// Where a provisioned object goes. Before a new object is created in a target MA for an MV object,
// the engine looks, in this order, for an object there that should be reused instead:
//   1. one this MV object had before and lost (deprovisioned by disable or disconnect, or by a
//      delete not sent yet): a restored identity gets its own account back (restore.ts);
//   2. one with the same anchor or DN, connected to nothing: a duplicate would be rejected;
//   3. one the target MA's own join rules match (adopt.ts).
// What is left of an object the system deleted (a tombstone with the same anchor or DN) is replaced.
import { normalizeDN } from "../expr/dn.ts";
import {
  allocateIds,
  csByAnchors,
  csByDnNorm,
  formerConnectors,
  insertCsObjects,
  pendingExportsFor,
  updateRows,
  type CsRow,
  type NewCsObject,
  type PendingExportRow,
  type Queryable,
} from "../store/index.ts";
import { adoptionKey, joinableTargets } from "./adopt.ts";
import type { EngineContext } from "./context.ts";
import type { OutboundGroup, TargetValues } from "./export-flow.ts";
import type { MvRow } from "../store/index.ts";
import type { RunRecorder } from "./run.ts";

export interface ToProvision {
  plan: { mv: MvRow; group: OutboundGroup; rules: Array<{ name: string }>; connector?: CsRow };
  values: TargetValues;
  anchor: string | null;
}

/**
 * Decides, writes and returns: adopted objects become the plans' connectors (their pending exports
 * added to `pes`); `fresh` are provisioned as new rows with `newIds` (in the same order).
 */
export async function placeProvisioned<T extends ToProvision>(
  tx: Queryable,
  ctx: EngineContext,
  toProvision: T[],
  pes: Map<number, PendingExportRow>,
  run: RunRecorder,
  now: string,
): Promise<{ fresh: T[]; newIds: number[] }> {
  // An object with the same anchor (or DN) already in the connector space and connected to nothing
  // is adopted instead of provisioning a duplicate that the target would reject.
  const existing = new Map<string, CsRow>();
  for (const ma of new Set(toProvision.map((p) => p.plan.group.ma))) {
    const mine = toProvision.filter((p) => p.plan.group.ma === ma);
    for (const r of await csByAnchors(tx, ma, mine.flatMap((p) => (p.anchor ? [p.anchor] : [])))) existing.set(`${ma}\u0000a\u0000${r.anchor}`, r);
    for (const r of await csByDnNorm(tx, ma, mine.flatMap((p) => (p.values.dn ? [normalizeDN(p.values.dn)] : [])))) existing.set(`${ma}\u0000d\u0000${r.dn_norm}`, r);
  }
  const sameAnchorOrDn = (p: (typeof toProvision)[number]) => {
    const ma = p.plan.group.ma;
    return (p.anchor ? existing.get(`${ma}\u0000a\u0000${p.anchor}`) : undefined) ?? (p.values.dn ? existing.get(`${ma}\u0000d\u0000${normalizeDN(p.values.dn)}`) : undefined);
  };
  // First the objects these MV objects had here before they lost them (deprovisioned by disconnect
  // or disable, or a delete not sent yet): a restored identity gets its own accounts back.
  const former = new Map<string, CsRow>();
  for (const key of new Set(toProvision.map((p) => `${p.plan.group.ma}\u0000${p.plan.group.targetType}`))) {
    const [ma, type] = key.split("\u0000");
    const mine = toProvision.filter((p) => p.plan.group.ma === ma && p.plan.group.targetType === type).map((p) => p.plan.mv.id);
    for (const r of await formerConnectors(tx, ma, type, mine)) if (!former.has(`${key}\u0000${r.last_mv_id}`)) former.set(`${key}\u0000${r.last_mv_id}`, r);
  }
  const formerOf = (p: (typeof toProvision)[number]) => former.get(`${p.plan.group.ma}\u0000${p.plan.group.targetType}\u0000${p.plan.mv.id}`);
  // Then the target MA's own join rules (adopt.ts): an existing entry they match is joined, not duplicated.
  const joinable = await joinableTargets(
    tx,
    toProvision
      .filter((p) => !formerOf(p) && !sameAnchorOrDn(p))
      .map((p) => ({ mvId: p.plan.mv.id, mvType: p.plan.mv.object_type, attrs: p.plan.mv.attrs, ma: ctx.config.mas.get(p.plan.group.ma)!, targetType: p.plan.group.targetType })),
    run,
  );
  const fresh: T[] = [];
  const revived: number[] = [];
  const adoptions: Array<{ id: number; mv_id: number; rule: string; link: string }> = [];
  for (const p of toProvision) {
    const ma = p.plan.group.ma;
    const previous = formerOf(p);
    const found = previous ?? sameAnchorOrDn(p) ?? joinable.get(adoptionKey(ma, p.plan.group.targetType, p.plan.mv.id));
    if (!found) {
      fresh.push(p);
    } else if (found.mv_id === null && !found.deleted) {
      // Its own former object is its provisioned account again; anything else found is joined.
      const link = previous ? "provisioned" : "joined";
      adoptions.push({ id: found.id, mv_id: p.plan.mv.id, rule: p.plan.rules[0].name, link });
      p.plan.connector = { ...found, mv_id: p.plan.mv.id, link: link as CsRow["link"], last_mv_id: null };
      run.counts.joins++;
    } else if (found.mv_id === null && found.deleted && (found.anchor === p.anchor || p.anchor === null)) {
      // What is left of an object the system deleted (a tombstone): provisioned anew in its place.
      revived.push(found.id);
      fresh.push(p);
    } else {
      run.error({ csId: String(found.id), anchor: found.anchor ?? undefined, code: "anchor-conflict", message: `cannot provision metaverse object ${p.plan.mv.id} into ${ma}: an object with the same anchor or DN is connected to metaverse object ${found.mv_id ?? "(deleted)"}` });
    }
  }
  // Pending exports of the adopted objects (a delete not sent yet): the diff below replaces them.
  for (const pe of await pendingExportsFor(tx, adoptions.map((a) => a.id))) pes.set(pe.cs_id, pe);
  if (revived.length > 0) {
    // The tombstone goes; the object provisioned in its place takes its anchor.
    await tx.query(`delete from pending_export where cs_id = any($1::bigint[])`, [revived]);
    await tx.query(`delete from cs_object where id = any($1::bigint[])`, [revived]);
  }
  const newIds = await allocateIds(tx, "cs_object_id_seq", fresh.length);
  const newRows: NewCsObject[] = fresh.map((p, i) => ({
    id: newIds[i],
    ma: p.plan.group.ma,
    object_type: p.plan.group.targetType,
    anchor: p.anchor,
    dn: p.values.dn ?? null,
    dn_norm: p.values.dn ? normalizeDN(p.values.dn) : null,
    mv_id: p.plan.mv.id,
    link: "provisioned",
    rule: p.plan.rules[0].name,
  }));
  await insertCsObjects(tx, newRows, now);
  await updateRows(
    tx,
    "cs_object",
    { id: "bigint", mv_id: "bigint", rule: "text", link: "text" },
    adoptions,
    `mv_id = v.mv_id, link = v.link, rule = v.rule, last_mv_id = null, linked_at = '${now}'::timestamptz`,
  );
  run.counts.provisions += fresh.length;
  return { fresh, newIds };
}
