// Outbound synchronization for a set of metaverse objects: provisioning, export attribute flow into
// pending exports, renames, and deprovisioning. One transaction per batch; provisioning of the whole
// batch happens before values are computed so references inside the batch resolve at once. Values
// declared unique (unique.ts) are decided before that, for the whole batch: an anchor may be one.
import { anchorOf } from "../connectors/types.ts";
import { normalizeDN } from "../expr/dn.ts";
import {
  BULK_CHANGE,
  connectorsOf,
  csByMvIds,
  csByMvIdsIn,
  deletePendingExports,
  failedAdd,
  markDirty,
  mvByIds,
  mvReferencing,
  pendingExportsFor,
  refreshStatistics,
  updateRows,
  upsertPendingExports,
  type CsRow,
  type MvRow,
  type PendingExportRow,
  type Queryable,
} from "../store/index.ts";
import { chunks, type EngineContext } from "./context.ts";
import {
  addPayload,
  computeTargetValues,
  diffTarget,
  expectedDn,
  expectedState,
  groupOutboundRules,
  isEmptyDiff,
  outboundRulesInScope,
  resolveOutboundReferences,
  type OutboundGroup,
  type TargetValues,
} from "./export-flow.ts";
import { deprovisionStep } from "./deprovision.ts";
import { placeProvisioned } from "./provision.ts";
import { canonical, ObjectRuleError } from "./inbound.ts";
import { assignUniqueValues } from "./unique-assign.ts";
import { UniqueClaims } from "./unique.ts";
import type { RunRecorder } from "./run.ts";

export function referenceByOf(ctx: EngineContext, ma: string): "anchor" | "dn" {
  const type = ctx.config.mas.get(ma)?.resource.spec.connector.type;
  return type === "ldap" || type === "activeDirectory" ? "dn" : "anchor";
}

/**
 * Applies the outbound rules to MV objects batch by batch and clears their dirty mark, except for
 * objects that lost a connector: they stay dirty (with the MA recorded) for the deletion rules.
 */
export class OutboundPass {
  private readonly groups: OutboundGroup[];
  private readonly waiting = new Set<number>();
  private analyzed = false;
  constructor(
    private readonly ctx: EngineContext,
    private readonly run: RunRecorder,
  ) {
    this.groups = groupOutboundRules(ctx.config.outbound, (ma) => referenceByOf(ctx, ma));
  }

  /**
   * With `mvs` (already loaded and recomputed by the caller, who then writes the dirty marks with
   * its own update of those rows), returns the MAs each MV object lost a connector in.
   */
  batch(tx: Queryable, ids: number[], mvs?: MvRow[]): Promise<OutboundBatchResult> {
    return outboundBatch(tx, this.ctx, this.groups, ids, this.run, this.waiting, mvs);
  }

  async afterBatch(): Promise<void> {
    await this.run.flushErrors();
    if (!this.analyzed && this.run.counts.provisions >= BULK_CHANGE) {
      this.analyzed = true; // once: enough for the planner to see a big table, not a tiny one
      await refreshStatistics(this.ctx.db, ["cs_object", "pending_export"]);
    }
  }

  /** Objects whose references waited for an object provisioned later in this pass: once more. */
  async finish(): Promise<void> {
    if (this.waiting.size === 0) return;
    const retry = (
      await this.ctx.db.query<{ mv_id: number }>(
        `select distinct c.mv_id from cs_object c
          where c.unresolved_out is not null and c.mv_id is not null
            and exists (select 1 from jsonb_array_elements_text(c.unresolved_out) u(id), cs_object r
                          left join pending_export p on p.cs_id = r.id
                         where r.ma = c.ma and r.mv_id = u.id::bigint and not ${failedAdd("r", "p")})`,
      )
    ).rows.map((r) => r.mv_id);
    for (const batch of chunks(retry, this.ctx.batchSize)) {
      await this.ctx.db.transaction(async (tx) => void (await outboundBatch(tx, this.ctx, this.groups, batch, this.run, new Set())));
    }
    await this.run.flushErrors();
  }
}

/** Outbound rules for a set of MV objects (each batch in its own transaction). */
export async function syncOutbound(ctx: EngineContext, mvIds: number[], run: RunRecorder): Promise<void> {
  const pass = new OutboundPass(ctx, run);
  for (const batch of chunks(mvIds, ctx.batchSize)) {
    await ctx.db.transaction(async (tx) => void (await pass.batch(tx, batch)));
    await pass.afterBatch();
  }
  await pass.finish();
}

interface Plan {
  mv: MvRow;
  group: OutboundGroup;
  rules: ReturnType<typeof outboundRulesInScope>;
  connector?: CsRow;
}

async function outboundBatch(
  tx: Queryable,
  ctx: EngineContext,
  groups: OutboundGroup[],
  ids: number[],
  run: RunRecorder,
  waiting: Set<number>,
  preloaded?: MvRow[],
): Promise<OutboundBatchResult> {
  const lost = new Map<number, Set<string>>();
  // MV objects whose object in some target MA goes away or gets a new DN: what others reference.
  const moved = new Set<number>();
  const now = ctx.now().toISOString();
  const mvs = preloaded ?? (await mvByIds(tx, ids));
  // Only the target MAs' objects are needed, except for deleted MV objects, which lose every connector.
  const deletedIds = mvs.filter((m) => m.deleted_at !== null).map((m) => m.id);
  const targetMas = [...new Set(groups.map((g) => g.ma))];
  const connectors = [
    ...(await csByMvIdsIn(tx, ids, targetMas)),
    ...(await csByMvIds(tx, deletedIds)).filter((c) => !targetMas.includes(c.ma)),
  ];
  const pes = new Map<number, PendingExportRow>((await pendingExportsFor(tx, connectors.map((c) => c.id))).map((p) => [p.cs_id, p]));
  const byKey = new Map<string, CsRow>();
  for (const c of connectors) byKey.set(`${c.mv_id}\u0000${c.ma}\u0000${c.object_type}`, c);
  const connOf = (mvId: number, g: OutboundGroup) => byKey.get(`${mvId}\u0000${g.ma}\u0000${g.targetType}`);

  const plans: Plan[] = [];
  const unlinks: Array<{ row: CsRow }> = [];
  const peWrites: Array<Omit<PendingExportRow, "error" | "attempts">> = [];
  const peDeletes: number[] = [];
  const csRemovals: number[] = [];
  const handled = new Set<number>();
  const objError = (row: { id?: number; anchor?: string | null }, mv: MvRow, e: ObjectRuleError) =>
    run.error({ csId: row.id ? String(row.id) : undefined, anchor: row.anchor ?? undefined, code: e.code, message: `metaverse object ${mv.id}: ${e.message}` });

  for (const mv of mvs) {
    for (const group of groups) {
      const connector = connOf(mv.id, group);
      if (connector) handled.add(connector.id);
      let rules;
      try {
        rules = outboundRulesInScope(group, mv.object_type, mv.attrs, mv.deleted_at !== null);
      } catch (e) {
        if (!(e instanceof ObjectRuleError)) throw e;
        objError(connector ?? {}, mv, e);
        continue;
      }
      if (rules.length > 0) {
        if (connector || rules.some((r) => r.provision)) plans.push({ mv, group, rules, connector });
        continue;
      }
      if (!connector || !group.rules.some((r) => r.mvType === mv.object_type)) continue;
      // Left the scope of every rule (or the MV object was deleted): deprovision as declared.
      const pe = pes.get(connector.id);
      run.counts.deprovisions++;
      addLost(lost, mv.id, connector.ma);
      unlinks.push({ row: connector });
      try {
        const step = deprovisionStep(group, mv, connector, pe);
        if (step.kind === "remove") csRemovals.push(connector.id);
        else if (step.kind === "drop") peDeletes.push(connector.id);
        else if (step.kind === "write") peWrites.push({ cs_id: connector.id, ma: connector.ma, op: step.op, new_dn: step.newDn, changes: step.changes, state: "pending" });
      } catch (e) {
        if (!(e instanceof ObjectRuleError)) throw e;
        objError(connector, mv, e);
      }
    }
    // A deleted MV object keeps no connectors, also in MAs without outbound rules.
    if (mv.deleted_at !== null) {
      for (const c of connectors) {
        if (c.mv_id === mv.id && !handled.has(c.id)) {
          unlinks.push({ row: c });
          addLost(lost, mv.id, c.ma);
        }
      }
    }
  }

  // Target values of every plan; a new object, and an add not sent yet, with the initialOnly flows.
  const valueSets = new Map<Plan, TargetValues>();
  for (const plan of plans) {
    try {
      valueSets.set(plan, computeTargetValues(plan.rules, plan.mv.attrs, { initial: isUnsentAdd(plan.connector, pes) }));
    } catch (e) {
      if (!(e instanceof ObjectRuleError)) throw e;
      objError(plan.connector ?? {}, plan.mv, e);
    }
  }
  // Unique values (unique.ts), for the whole batch at once, before anchors are computed from them.
  const claims = new UniqueClaims();
  const assignUnique = async (list: Plan[]) => {
    const targets = list.flatMap((plan) => {
      const values = valueSets.get(plan);
      const c = plan.connector;
      return values ? [{ plan, mvId: plan.mv.id, ma: plan.group.ma, targetType: plan.group.targetType, attrs: plan.mv.attrs, values, connector: c, pe: c ? pes.get(c.id) : undefined }] : [];
    });
    for (const [t, e] of await assignUniqueValues(tx, targets, claims)) {
      valueSets.delete(t.plan);
      objError(t.plan.connector ?? {}, t.plan.mv, e);
    }
  };
  await assignUnique(plans);

  // Provisioning first, for the whole batch, so that references between these objects resolve.
  const toProvision: Array<{ plan: Plan; values: TargetValues; anchor: string | null }> = [];
  for (const plan of plans) {
    const values = valueSets.get(plan);
    if (plan.connector || !values) continue;
    try {
      const type = ctx.config.mas.get(plan.group.ma)!.types.get(plan.group.targetType)!;
      const anchor = plan.group.referenceBy === "anchor" ? (anchorOf(type.spec, values.values) ?? null) : null;
      if (plan.group.referenceBy === "anchor" && anchor === null) {
        throw new ObjectRuleError("cannot-provision", `no value for the anchor (${type.spec.anchor.join(", ")}) of ${plan.group.ma}/${plan.group.targetType}`);
      }
      if (plan.group.referenceBy === "dn" && !values.dn) {
        throw new ObjectRuleError("cannot-provision", `the dn expression gave no value for ${plan.group.ma}/${plan.group.targetType}`);
      }
      toProvision.push({ plan, values, anchor });
    } catch (e) {
      if (!(e instanceof ObjectRuleError)) throw e;
      valueSets.delete(plan);
      objError({}, plan.mv, e);
    }
  }
  // Where each goes: an object it had before, one with its anchor or DN, one the target's join
  // rules match, or a new one (provision.ts).
  const { fresh, newIds } = await placeProvisioned(tx, ctx, toProvision, pes, run, now);
  const freshPlans = new Set(fresh.map((f) => f.plan));
  // An adopted object is an existing one: its values again, as for any connector, and its unique
  // values decided again knowing what it has (a returning leaver keeps its account name).
  const adopted = toProvision.filter((p) => p.plan.connector).map((p) => p.plan);
  for (const plan of toProvision.map((p) => p.plan)) if (!freshPlans.has(plan)) valueSets.delete(plan);
  claims.release(adopted.map((p) => ({ mvId: p.mv.id, ma: p.group.ma, targetType: p.group.targetType })));
  for (const plan of adopted) {
    try {
      valueSets.set(plan, computeTargetValues(plan.rules, plan.mv.attrs, { initial: isUnsentAdd(plan.connector, pes) }));
    } catch (e) {
      if (!(e instanceof ObjectRuleError)) throw e;
      objError(plan.connector!, plan.mv, e);
    }
  }
  await assignUnique(adopted);

  // References: one lookup per (MA, referenced type) for the batch; new objects are visible in tx.
  // A reference resolves to the referenced object's DN or anchor in the MA once it has an object
  // there, an add not exported yet included, except an add that failed (pending export 'add' in
  // state 'error', never imported): that one does not exist there, so the reference stays
  // unresolved (unresolved_out) like one to an object with no account yet. Its referrers are
  // recomputed when the add first fails or later succeeds (export.ts), or is pending again (below).
  const refNeeds = new Map<string, Set<number>>();
  for (const [plan, v] of valueSets) {
    for (const ref of v.refs.values()) {
      const key = `${plan.group.ma}\u0000${ref.referenceTo}`;
      const set = refNeeds.get(key) ?? new Set<number>();
      ref.mvIds.forEach((id) => set.add(id));
      refNeeds.set(key, set);
    }
  }
  const refValues = new Map<string, string>();
  for (const [key, set] of refNeeds) {
    const [ma, type] = key.split("\u0000");
    const by = referenceByOf(ctx, ma);
    for (const r of await connectorsOf(tx, ma, type, [...set])) {
      const v = by === "dn" ? r.dn : r.anchor;
      if (v) refValues.set(`${key}\u0000${r.mv_id}`, v);
    }
  }

  const unresolvedWrites: Array<{ id: number; unresolved: string | null }> = [];
  const dnWrites: Array<{ id: number; dn: string; dn_norm: string }> = [];
  fresh.forEach((p, i) => {
    const missing = resolveOutboundReferences(p.values, (t, id) => refValues.get(`${p.plan.group.ma}\u0000${t}\u0000${id}`));
    if (missing.length > 0) waiting.add(p.plan.mv.id);
    if (missing.length > 0) unresolvedWrites.push({ id: newIds[i], unresolved: JSON.stringify(missing) });
    peWrites.push({ cs_id: newIds[i], ma: p.plan.group.ma, op: "add", new_dn: null, changes: addPayload(p.values.values), state: "pending" });
  });
  for (const plan of plans) {
    const c = plan.connector;
    const values = valueSets.get(plan);
    if (!c || !values || freshPlans.has(plan)) continue;
    const missing = resolveOutboundReferences(values, (t, id) => refValues.get(`${plan.group.ma}\u0000${t}\u0000${id}`));
    if (missing.length > 0) waiting.add(plan.mv.id);
    if (missing.length > 0 || c.unresolved_out) unresolvedWrites.push({ id: c.id, unresolved: missing.length > 0 ? JSON.stringify(missing) : null });
    const pe = pes.get(c.id);
    if (isUnsentAdd(c, pes)) {
      // Not exported yet: the add itself carries the current values (computed with the initialOnly
      // flows). Once an import has seen the object — e.g. an add that landed just before a crash —
      // it is diffed like any other.
      const changes = addPayload(values.values);
      const newDn = values.dn && c.dn !== values.dn ? values.dn : undefined;
      // A failed add computed again with the same values keeps its error (and stays no reference
      // target, connectorsOf); with new values it is pending again, and what references it is
      // recomputed to name it (it is exported before them).
      if (pe?.state === "error" && !newDn && canonical(changes) === canonical(pe.changes)) continue;
      if (pe?.state === "error") moved.add(plan.mv.id);
      peWrites.push({ cs_id: c.id, ma: c.ma, op: "add", new_dn: null, changes, state: "pending" });
      if (newDn) dnWrites.push({ id: c.id, dn: newDn, dn_norm: normalizeDN(newDn) });
      continue;
    }
    const diff = diffTarget(values, expectedState(c, pe), expectedDn(c, pe), plan.group.referenceBy);
    if (isEmptyDiff(diff)) {
      if (pe && pe.state !== "unconfirmed") peDeletes.push(c.id);
      continue;
    }
    peWrites.push({ cs_id: c.id, ma: c.ma, op: "update", new_dn: diff.newDn ?? null, changes: diff.changes, state: "pending" });
    if (diff.newDn) moved.add(plan.mv.id);
  }

  await updateRows(tx, "cs_object", { id: "bigint", unresolved: "text" }, unresolvedWrites, `unresolved_out = v.unresolved::jsonb`);
  await updateRows(tx, "cs_object", { id: "bigint", dn: "text", dn_norm: "text" }, dnWrites, `dn = v.dn, dn_norm = v.dn_norm`);
  await updateRows(
    tx,
    "cs_object",
    { id: "bigint" },
    unlinks.map((u) => ({ id: u.row.id })),
    // last_mv_id: the identity it belonged to, in case that identity is restored (formerConnectors).
    `last_mv_id = t.mv_id, mv_id = null, link = 'normal', contrib = null, unresolved_refs = null, unresolved_out = null, disconnected_at = '${now}'::timestamptz`,
  );
  const written = new Set(peWrites.map((w) => w.cs_id));
  await deletePendingExports(tx, peDeletes.filter((id) => !written.has(id)));
  await upsertPendingExports(tx, peWrites);
  if (csRemovals.length > 0) await tx.query(`delete from cs_object where id = any($1::bigint[])`, [csRemovals]);
  for (const u of unlinks) if (u.row.mv_id !== null) moved.add(u.row.mv_id);
  const referrers = await referrersOf(tx, ctx, [...moved]);
  if (!preloaded) {
    await writeDirtyMarks(tx, ids, lost);
    await markDirty(tx, referrers);
  }
  return { lost, referrers };
}

export interface OutboundBatchResult {
  /** MV objects that lost a connector, with the MAs: they stay dirty for the deletion rules. */
  lost: Map<number, Set<string>>;
  /** Live MV objects whose outbound references name an object that moved or went away. */
  referrers: Set<number>;
}

/**
 * Live MV objects that reference any of these MV objects through an attribute an outbound reference
 * flow reads (a report's manager, a group's members): their exports must be recomputed when the
 * referenced object's target DN changes or it is deprovisioned. Found through the search index.
 */
export async function referrersOf(tx: Queryable, ctx: EngineContext, mvIds: number[]): Promise<Set<number>> {
  const out = new Set<number>();
  const attrs = new Set<string>();
  for (const r of ctx.config.outbound) for (const f of r.flows) if (f.referenceTo) f.expr.reads.forEach((a) => attrs.add(a));
  if (mvIds.length === 0 || attrs.size === 0) return out;
  for (const part of chunks(mvIds, 100)) for (const id of await mvReferencing(tx, [...attrs], part)) out.add(id);
  return out;
}

/** Clears the dirty mark of a batch, except objects that lost a connector (deletion rules next). */
async function writeDirtyMarks(tx: Queryable, ids: number[], lost: Map<number, Set<string>>): Promise<void> {
  await tx.query(`update mv_object set dirty = false where id = any($1::bigint[]) and not (id = any($2::bigint[]))`, [ids, [...lost.keys()]]);
  const byMa = new Map<string, number[]>();
  for (const [mv, mas] of lost) for (const ma of mas) byMa.set(ma, [...(byMa.get(ma) ?? []), mv]);
  for (const [ma, mvs] of byMa) await markDirty(tx, mvs, ma);
}

/**
 * No connector yet (provisioning), or one whose add was not exported yet: its values are computed
 * with the initialOnly flows, for the add.
 */
function isUnsentAdd(c: CsRow | undefined, pes: Map<number, PendingExportRow>): boolean {
  if (!c) return true;
  const pe = pes.get(c.id);
  return pe !== undefined && pe.op === "add" && pe.state !== "unconfirmed" && c.imported_at === null;
}

function addLost(lost: Map<number, Set<string>>, mvId: number, ma: string): void {
  let s = lost.get(mvId);
  if (!s) lost.set(mvId, (s = new Set()));
  s.add(ma);
}
