// Full and delta synchronization of one management agent.
//
// Phases, each in batches inside transactions:
//   A+B. connector filter, deletions, scope, join, projection, and in the same pass inbound attribute
//        flow (each connector's contributions, references resolved to MV ids); references to objects
//        that link later in the batch order are resolved by a second pass over just those objects,
//        so the result does not depend on input order;
//   C+D. settle.ts: precedence, object deletion rules and outbound rules for every MV object the
//        phases above (or a run that crashed) marked dirty.
import { checkCancelled, chunks, type EngineContext } from "./context.ts";
import { canonical, contributions, hasInboundRules, isFiltered, joinKeys, ObjectRuleError, rulesInScope } from "./inbound.ts";
import type { CompiledMA } from "./rules.ts";
import type { RunRecorder } from "./run.ts";
import { candidateKey, findJoinCandidates } from "./join-lookup.ts";
import { restoreCandidates } from "./restore.ts";
import { settleMetaverse } from "./settle.ts";
import {
  allocateIds,
  BULK_CHANGE,
  csByAnchors,
  csByIds,
  insertMvObjects,
  markDirty,
  mvByIds,
  mvIdsConnectedIn,
  refreshStatistics,
  updateRows,
  type CsRow,
  type Queryable,
} from "../store/index.ts";
import type { Attributes } from "../expr/index.ts";

export async function runSync(ctx: EngineContext, maName: string, mode: "full" | "delta", run: RunRecorder): Promise<void> {
  const ma = ctx.config.mas.get(maName);
  if (!ma) throw new Error(`management agent '${maName}' is not applied`);

  const ids =
    mode === "full"
      ? await idList(ctx.db, `select id from cs_object where ma = $1 order by id`, [maName])
      : await idList(ctx.db, `select id from cs_object where ma = $1 and pending_import is not null order by id`, [maName]);
  let done = 0;
  for (const batch of chunks(ids, ctx.batchSize)) {
    checkCancelled(ctx);
    await ctx.db.transaction((tx) => linkPhase(tx, ctx, ma, batch, run));
    await run.flushErrors();
    done += batch.length;
    ctx.options.onProgress?.(done, ids.length, `sync ${maName}: join and attribute flow`);
  }
  if (run.counts.projections + run.counts.joins >= BULK_CHANGE) await refreshStatistics(ctx.db, ["cs_object", "mv_object"]);
  // References to objects that joined later in this sync (or in an earlier one) resolve now.
  const inboundTypes = [...ma.types.keys()].filter((t) => hasInboundRules(ma, t));
  const again = inboundTypes.length === 0 ? [] : await idList(
    ctx.db,
    `select id from cs_object where ma = $1 and mv_id is not null and object_type = any($2::text[]) and unresolved_refs is not null order by id`,
    [maName, inboundTypes],
  );
  for (const batch of chunks(again, ctx.batchSize)) {
    await ctx.db.transaction(async (tx) => {
      const rows = (await csByIds(tx, batch)).filter((r) => r.mv_id !== null && !r.deleted);
      const types = new Map((await mvByIds(tx, rows.map((r) => r.mv_id!))).map((m) => [m.id, m.object_type]));
      await writeContributions(tx, await flowPhase(tx, ma, rows, types, run));
    });
    await run.flushErrors();
  }
  await settleMetaverse(ctx, run);
}

async function idList(db: Queryable, sql: string, params: unknown[]): Promise<number[]> {
  return (await db.query<{ id: number }>(sql, params)).rows.map((r) => r.id);
}

interface LinkWrite {
  id: number;
  mv_id: number | null;
  link: string;
  clear_pending: boolean;
  clear_contrib: boolean;
  event: "link" | "unlink" | "none";
}

async function linkPhase(
  tx: Queryable,
  ctx: EngineContext,
  ma: CompiledMA,
  ids: number[],
  run: RunRecorder,
): Promise<void> {
  const rows = await csByIds(tx, ids);
  // Connectors whose contributions are (re)computed in this batch, with their MV object's type.
  const flowRows: CsRow[] = [];
  const flowTypes = new Map<number, string>();
  const dirty = new Set<number>(); // MV objects to revisit
  const lost = new Set<number>(); // MV objects that lose their connector in this MA
  const mvTypes = new Map((await mvByIds(tx, rows.filter((r) => r.mv_id !== null).map((r) => r.mv_id!))).map((m) => [m.id, m]));
  const writes: LinkWrite[] = [];
  const removed: number[] = [];
  const unjoined: Array<{ row: CsRow; keys: ReturnType<typeof joinKeys>; projectInto?: string }> = [];
  const unlink = (row: CsRow, link: string) => {
    if (row.mv_id !== null) {
      lost.add(row.mv_id);
      run.counts.disconnects++;
    }
    writes.push({ id: row.id, mv_id: null, link, clear_pending: true, clear_contrib: true, event: row.mv_id !== null ? "unlink" : "none" });
  };
  for (const row of rows) {
    if (row.deleted) {
      if (row.mv_id !== null) {
        lost.add(row.mv_id);
        run.counts.disconnects++;
        // Kept as a tombstone that remembers its identity: if the object comes back within the
        // grace period, the metaverse object it belonged to is restored, not recreated.
        writes.push({ id: row.id, mv_id: null, link: "normal", clear_pending: true, clear_contrib: true, event: "unlink" });
      } else if (row.last_mv_id === null) {
        removed.push(row.id); // it never belonged to anyone: nothing to remember
      } else if (row.pending_import !== null) {
        writes.push({ id: row.id, mv_id: null, link: "normal", clear_pending: true, clear_contrib: true, event: "none" });
      }
      continue;
    }
    try {
      if (isFiltered(ma, row.attrs)) {
        if (row.link !== "filtered") run.counts.filtered++;
        unlink(row, "filtered");
        continue;
      }
      const rules = rulesInScope(ma, row.object_type, row.attrs);
      if (row.mv_id !== null) {
        const mv = mvTypes.get(row.mv_id);
        const inbound = row.link === "projected" || row.link === "joined";
        if (inbound && hasInboundRules(ma, row.object_type) && !rules.some((r) => r.mvType === mv?.object_type)) {
          unlink(row, "normal"); // left the scope of every inbound rule: its values are recalled
          continue;
        }
        dirty.add(row.mv_id);
        if (hasInboundRules(ma, row.object_type)) {
          flowRows.push(row);
          if (mv) flowTypes.set(row.mv_id, mv.object_type);
        } else writes.push({ id: row.id, mv_id: row.mv_id, link: row.link, clear_pending: true, clear_contrib: false, event: "none" });
        continue;
      }
      if (rules.length === 0) {
        writes.push({ id: row.id, mv_id: null, link: "normal", clear_pending: true, clear_contrib: true, event: "none" });
        continue;
      }
      unjoined.push({ row, keys: joinKeys(rules, row.attrs), projectInto: rules.find((r) => r.projection)?.mvType });
    } catch (e) {
      if (!(e instanceof ObjectRuleError)) throw e;
      run.error({ csId: String(row.id), anchor: row.anchor ?? undefined, dn: row.dn ?? undefined, code: e.code, message: e.message });
      writes.push({ id: row.id, mv_id: row.mv_id, link: row.link, clear_pending: true, clear_contrib: false, event: "none" });
    }
  }

  // Joins, set-based: one query per (MV type, attribute) for the whole batch.
  const candidates = await findJoinCandidates(tx, unjoined.flatMap((u) => u.keys), "live");
  // Identities soft-deleted within their grace period that a returning object restores: the one it
  // was connected to itself (a tombstone, or a leaver back in scope), else one its join rules match.
  const restorable = await restoreCandidates(tx, ma, unjoined, candidates);
  const allCandidates = [...new Set([...[...candidates.values()].flat(), ...[...restorable.values()].map((r) => r.id)])];
  const taken = await mvIdsConnectedIn(tx, ma.name, allCandidates);
  const projections: Array<{ row: CsRow; mvType: string }> = [];
  const restored: number[] = [];
  // Joined, restored or projected alike: linked now, and its contributions computed in this pass.
  const connect = (row: CsRow, mvId: number, mvType: string, link: "joined" | "projected") => {
    flowRows.push({ ...row, mv_id: mvId, link, contrib: null });
    flowTypes.set(mvId, mvType);
    writes.push({ id: row.id, mv_id: mvId, link, clear_pending: false, clear_contrib: true, event: "link" });
  };
  for (const u of unjoined) {
    let joined: number | undefined;
    let joinedType: string | undefined;
    let ambiguous: number[] | undefined;
    const back = restorable.get(u.row.id);
    if (back && !taken.has(back.id)) {
      taken.add(back.id);
      if (back.deleted) {
        restored.push(back.id);
        run.counts.restores++;
      } else run.counts.joins++;
      dirty.add(back.id);
      connect(u.row, back.id, back.type, u.projectInto === back.type ? "projected" : "joined");
      continue;
    }
    for (const k of u.keys) {
      const ids = new Set<number>();
      for (const v of k.values) for (const id of candidates.get(candidateKey(k, v)) ?? []) ids.add(id);
      const free = [...ids].filter((id) => !taken.has(id));
      if (free.length === 1) {
        joined = free[0];
        joinedType = k.rule.mvType;
        break;
      }
      if (free.length > 1) {
        ambiguous = free.sort((a, b) => a - b);
        break;
      }
    }
    if (ambiguous) {
      // Never guess: an object that matches several identities waits for a human.
      run.error({
        csId: String(u.row.id),
        anchor: u.row.anchor ?? undefined,
        code: "ambiguous-join",
        message: `joins ${ambiguous.length} metaverse objects (${ambiguous.slice(0, 5).join(", ")}); it stays a disconnector`,
      });
      writes.push({ id: u.row.id, mv_id: null, link: "normal", clear_pending: true, clear_contrib: true, event: "none" });
    } else if (joined !== undefined) {
      taken.add(joined);
      run.counts.joins++;
      dirty.add(joined);
      connect(u.row, joined, joinedType!, "joined");
    } else if (u.projectInto) {
      projections.push({ row: u.row, mvType: u.projectInto });
    } else {
      writes.push({ id: u.row.id, mv_id: null, link: "normal", clear_pending: true, clear_contrib: true, event: "none" });
    }
  }
  if (restored.length > 0) {
    await tx.query(`update mv_object set deleted_at = null, lost_from = null, dirty = true where id = any($1::bigint[])`, [restored]);
    // Its former connectors in other source MAs reconnect with their MA's next sync (targets
    // reconnect through the outbound rules, formerConnectors).
    await tx.query(
      `update cs_object set pending_import = coalesce(pending_import, 'update')
        where last_mv_id = any($1::bigint[]) and mv_id is null and not deleted and ma <> $2`,
      [restored, ma.name],
    );
  }
  const newIds = await allocateIds(tx, "mv_object_id_seq", projections.length);
  await insertMvObjects(tx, projections.map((p, i) => ({ id: newIds[i], object_type: p.mvType })));
  projections.forEach((p, i) => {
    run.counts.projections++;
    connect(p.row, newIds[i], p.mvType, "projected");
  });

  if (removed.length > 0) await tx.query(`delete from cs_object where id = any($1::bigint[])`, [removed]);

  // Attribute flow in the same pass; references to objects not linked yet are retried after the
  // last batch (see runSync), so the result still does not depend on the order of the objects.
  const links = new Map<string, number | null>();
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const w of writes) {
    const r = byId.get(w.id);
    if (r?.anchor) links.set(`${r.object_type}\u0000${r.anchor}`, w.mv_id);
  }
  const flowed = await flowPhase(tx, ma, flowRows, flowTypes, run, links);
  for (const id of flowed.affected) dirty.add(id);
  await markDirty(tx, dirty);
  await markDirty(tx, lost, ma.name);

  // One write per object: its link and its contributions together.
  const contribOf = new Map(flowed.writes.map((w) => [w.id, w]));
  const failed = new Set(flowed.failed);
  const rowsOut: Array<LinkWrite & { set_contrib: boolean; contrib: string | null; unresolved: string | null }> = [];
  const linked = new Set<number>();
  for (const w of writes) {
    linked.add(w.id);
    const c = contribOf.get(w.id);
    rowsOut.push({ ...w, clear_pending: w.clear_pending || c !== undefined || failed.has(w.id), set_contrib: c !== undefined, contrib: c?.contrib ?? null, unresolved: c?.unresolved ?? null });
  }
  for (const c of flowed.writes) {
    if (linked.has(c.id)) continue;
    const r = byId.get(c.id)!;
    rowsOut.push({ id: c.id, mv_id: r.mv_id, link: r.link, clear_pending: true, clear_contrib: false, event: "none", set_contrib: true, contrib: c.contrib, unresolved: c.unresolved });
  }
  for (const id of failed) {
    if (linked.has(id) || contribOf.has(id)) continue;
    const r = byId.get(id)!;
    rowsOut.push({ id, mv_id: r.mv_id, link: r.link, clear_pending: true, clear_contrib: false, event: "none", set_contrib: false, contrib: null, unresolved: null });
  }
  const now = ctx.now().toISOString();
  await updateRows(
    tx,
    "cs_object",
    {
      id: "bigint", mv_id: "bigint", link: "text", clear_pending: "boolean", clear_contrib: "boolean", event: "text",
      set_contrib: "boolean", contrib: "text", unresolved: "text",
    },
    rowsOut,
    `mv_id = v.mv_id, link = v.link,
     pending_import = case when v.clear_pending then null else t.pending_import end,
     contrib = case when v.set_contrib then v.contrib::jsonb when v.clear_contrib then null else t.contrib end,
     unresolved_refs = case when v.set_contrib then v.unresolved::jsonb when v.clear_contrib then null else t.unresolved_refs end,
     linked_at = case when v.event = 'link' then '${now}'::timestamptz else t.linked_at end,
     last_mv_id = case when v.event = 'unlink' then t.mv_id when v.event = 'link' then null else t.last_mv_id end,
     disconnected_at = case when v.event = 'unlink' then '${now}'::timestamptz else t.disconnected_at end,
     synced_at = '${now}'::timestamptz`,
  );
}

interface FlowResult {
  /** Contributions to store (only where something changed or an import is pending). */
  writes: Array<{ id: number; contrib: string; unresolved: string | null }>;
  /** Objects whose rules failed: the error is recorded, nothing stays pending. */
  failed: number[];
  /** MV objects whose contributions changed. */
  affected: Set<number>;
}

/**
 * Inbound attribute flow for connectors: their contributions, references resolved to MV ids.
 * Reads only; the caller writes. `links` overrides what the database says about objects whose
 * link this very batch changed (type + anchor -> MV id), so references see the batch's own joins.
 */
async function flowPhase(
  tx: Queryable,
  ma: CompiledMA,
  rows: CsRow[],
  mvTypes: Map<number, string>,
  run: RunRecorder,
  links: Map<string, number | null> = new Map(),
): Promise<FlowResult> {
  const affected = new Set<number>();
  if (rows.length === 0) return { writes: [], failed: [], affected };
  const ids = rows.map((r) => r.id);
  const evaluated: Array<{ row: CsRow; values: Record<string, Attributes>; refs: ReturnType<typeof contributions>["refs"] }> = [];
  const anchorsNeeded = new Set<string>();
  for (const row of rows) {
    const mvType = mvTypes.get(row.mv_id!);
    if (!mvType) continue;
    try {
      const c = contributions(rulesInScope(ma, row.object_type, row.attrs), mvType, row.attrs);
      for (const r of c.refs) for (const a of r.anchors) anchorsNeeded.add(a);
      evaluated.push({ row, values: c.values, refs: c.refs });
    } catch (e) {
      if (!(e instanceof ObjectRuleError)) throw e;
      run.error({ csId: String(row.id), anchor: row.anchor ?? undefined, code: e.code, message: e.message });
    }
  }
  // Reference values are anchors in this MA; the metaverse holds the referenced object's MV id.
  const byAnchor = new Map<string, number | null>();
  for (const r of await csByAnchors(tx, ma.name, [...anchorsNeeded])) byAnchor.set(`${r.object_type}\u0000${r.anchor}`, r.mv_id);
  for (const [key, mv] of links) byAnchor.set(key, mv);
  const writes: Array<{ id: number; contrib: string; unresolved: string | null }> = [];
  for (const e of evaluated) {
    const unresolved: string[] = [];
    for (const ref of e.refs) {
      const ids: string[] = [];
      for (const a of ref.anchors) {
        const target = byAnchor.get(`${ref.referenceTo}\u0000${a}`);
        if (target !== null && target !== undefined) ids.push(String(target));
        else unresolved.push(a);
      }
      const attrIsMulti = ref.anchors.length > 1;
      e.values[ref.rule][ref.attribute] = ids.length === 0 ? null : attrIsMulti ? ids.sort() : ids[0];
    }
    const contrib = canonical(e.values);
    const unresolvedJson = unresolved.length > 0 ? JSON.stringify(unresolved.sort()) : null;
    const changed = contrib !== canonical(e.row.contrib ?? {});
    if (changed) affected.add(e.row.mv_id!);
    const unresolvedChanged = unresolvedJson !== (e.row.unresolved_refs ? JSON.stringify(e.row.unresolved_refs) : null);
    if (changed || unresolvedChanged || e.row.pending_import !== null) writes.push({ id: e.row.id, contrib, unresolved: unresolvedJson });
  }
  const ok = new Set(evaluated.map((e) => e.row.id));
  return { writes, failed: ids.filter((id) => !ok.has(id)), affected };
}

/** Stores a flow result on its own (objects whose links did not change in the same batch). */
async function writeContributions(tx: Queryable, r: FlowResult): Promise<void> {
  await updateRows(
    tx,
    "cs_object",
    { id: "bigint", contrib: "text", unresolved: "text" },
    r.writes,
    `contrib = v.contrib::jsonb, unresolved_refs = v.unresolved::jsonb, pending_import = null`,
  );
  await markDirty(tx, r.affected);
  if (r.failed.length > 0) await tx.query(`update cs_object set pending_import = null where id = any($1::bigint[])`, [r.failed]);
}

export { settleMetaverse };
