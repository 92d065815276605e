// The data impact of a simulated sync: a snapshot of the sync state taken before the simulation,
// compared with the state after it. Counts are computed in SQL (a plan of 100k objects must not pull
// 100k rows into memory); only the few sample objects are read. Everything here runs on the
// rolled-back view, so the temporary snapshot tables vanish with the rest.
import type { Queryable } from "../store/db.ts";
import type { AttributeChange, AttributeCount, ManagementAgentImpact, MetaverseImpact, ObjectSample } from "./model.ts";
import type { Redaction } from "./personal.ts";

export interface Snapshot {
  /** Connector-space objects with an import change no sync has processed yet, by MA. */
  pendingImports: Record<string, number>;
}

/** Copies what the comparison needs: live pending exports, connector-space links, metaverse values. */
export async function takeSnapshot(view: Queryable): Promise<Snapshot> {
  await view.query(`create temp table idsync_plan_pe as select cs_id, ma, op, new_dn, changes from pending_export where state <> 'unconfirmed'`);
  await view.query(`create temp table idsync_plan_cs as select id, ma, object_type, anchor, dn, mv_id, link from cs_object`);
  await view.query(`create temp table idsync_plan_mv as select id, attrs, deleted_at from mv_object`);
  await view.query(`analyze idsync_plan_pe, idsync_plan_cs, idsync_plan_mv`);
  const rows = (await view.query<{ ma: string; n: number }>(`select ma, count(*) as n from cs_object where pending_import is not null group by ma order by ma`)).rows;
  return { pendingImports: Object.fromEntries(rows.map((r) => [r.ma, Number(r.n)])) };
}

export interface ImpactOptions {
  samples: number;
  redaction: Redaction;
  /** "ma\0objectType" of every outbound rule (old or new): a lost connector there is a deprovision. */
  outboundTargets: Set<string>;
}

type Attrs = Record<string, unknown>;

interface DeltaRow {
  cs_id: number;
  ma: string;
  op: "add" | "update" | "delete" | null;
  new_dn: string | null;
  changes: Attrs | null;
  b_op: string | null;
  b_new_dn: string | null;
  b_changes: Attrs | null;
}

// An update counts (and an attribute counts for it) only where it differs from what was pending before.
const ATTR_IS_NEW = `(d.b_op is distinct from 'update' or d.b_changes -> k.key is distinct from k.value)`;

/** Per-MA changes (without thresholds) and the metaverse's changes since takeSnapshot. */
export async function measureImpact(view: Queryable, opts: ImpactOptions): Promise<{ managementAgents: ManagementAgentImpact[]; metaverse: MetaverseImpact }> {
  await view.query(
    `create temp table idsync_plan_delta as
     select coalesce(a.cs_id, b.cs_id) as cs_id, coalesce(a.ma, b.ma) as ma, a.op, a.new_dn, a.changes,
            b.op as b_op, b.new_dn as b_new_dn, b.changes as b_changes
       from (select cs_id, ma, op, new_dn, changes from pending_export where state <> 'unconfirmed') a
       full join idsync_plan_pe b on b.cs_id = a.cs_id
      where a.cs_id is null or b.cs_id is null or a.op <> b.op or a.new_dn is distinct from b.new_dn or a.changes <> b.changes`,
  );
  const impacts = new Map<string, ManagementAgentImpact>();
  const impact = (ma: string) => {
    let i = impacts.get(ma);
    if (!i) impacts.set(ma, (i = emptyImpact(ma)));
    return i;
  };

  const counts = await view.query<{ ma: string; adds: number; updates: number; renames: number; deletes: number; cancelled: number }>(
    `select ma,
            count(*) filter (where op = 'add') as adds,
            count(*) filter (where op = 'update' and exists (select 1 from jsonb_each(d.changes) k where ${ATTR_IS_NEW})) as updates,
            count(*) filter (where op = 'update' and new_dn is not null and new_dn is distinct from b_new_dn) as renames,
            count(*) filter (where op = 'delete') as deletes,
            count(*) filter (where op is null) as cancelled
       from idsync_plan_delta d group by ma`,
  );
  for (const r of counts.rows) Object.assign(impact(r.ma), { adds: +r.adds, updates: +r.updates, renames: +r.renames, deletes: +r.deletes, cancelled: +r.cancelled });

  const byAttr = await view.query<{ ma: string; attribute: string; objects: number }>(
    `select d.ma, k.key as attribute, count(*) as objects
       from idsync_plan_delta d cross join lateral jsonb_each(d.changes) k
      where d.op = 'update' and ${ATTR_IS_NEW}
      group by 1, 2 order by 1, 3 desc, 2`,
  );
  for (const r of byAttr.rows) impact(r.ma).updatesByAttribute.push({ attribute: r.attribute, objects: +r.objects });

  const samples = await view.query<DeltaRow & { category: string; anchor: string | null; dn: string | null; attrs: Attrs | null }>(
    `select * from (
       select d.*, c.anchor, c.dn, c.attrs, cat.category,
              row_number() over (partition by d.ma, cat.category order by c.anchor, c.dn, d.cs_id) as n
         from idsync_plan_delta d
         left join cs_object c on c.id = d.cs_id
        cross join lateral unnest(array_remove(array[
              case when d.op = 'add' then 'adds' end,
              case when d.op = 'delete' then 'deletes' end,
              case when d.op = 'update' and exists (select 1 from jsonb_each(d.changes) k where ${ATTR_IS_NEW}) then 'updates' end,
              case when d.op = 'update' and d.new_dn is not null and d.new_dn is distinct from d.b_new_dn then 'renames' end
            ], null)) as cat(category)
     ) x where n <= $1 order by ma, category, n`,
    [opts.samples],
  );
  for (const r of samples.rows) {
    const s = cardOf(r.ma, r.anchor, r.dn, opts.redaction);
    const changes = r.changes ?? {};
    if (r.category === "adds") {
      s.attributes = attributeChanges(r.ma, Object.keys(changes), () => undefined, (a) => changes[a], opts.redaction, false);
    } else if (r.category === "updates") {
      const isNew = (a: string) => r.b_op !== "update" || JSON.stringify(r.b_changes?.[a] ?? null) !== JSON.stringify(changes[a] ?? null);
      const attrs = r.attrs ?? {};
      s.attributes = attributeChanges(r.ma, Object.keys(changes).filter(isNew), (a) => attrs[a], (a) => changes[a], opts.redaction, true);
    } else if (r.category === "renames") {
      s.newDn = opts.redaction.dn(r.ma, r.new_dn ?? undefined);
    }
    impact(r.ma).samples[r.category as "adds" | "updates" | "deletes" | "renames"].push(s);
  }

  await measureLinks(view, opts, impact);
  const managementAgents = [...impacts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { managementAgents, metaverse: await measureMetaverse(view, opts) };
}

/** Provisioning, joins, projections, and connectors lost (deprovisioned or disconnected). */
async function measureLinks(view: Queryable, opts: ImpactOptions, impact: (ma: string) => ManagementAgentImpact): Promise<void> {
  const rows = await view.query<{ ma: string; object_type: string; provisions: number; joins: number; projections: number; unlinked: number }>(
    `select coalesce(c.ma, s.ma) as ma, coalesce(c.object_type, s.object_type) as object_type,
            count(*) filter (where s.id is null and c.link = 'provisioned') as provisions,
            count(*) filter (where c.mv_id is not null and s.mv_id is distinct from c.mv_id and c.link = 'joined') as joins,
            count(*) filter (where c.mv_id is not null and s.mv_id is distinct from c.mv_id and c.link = 'projected') as projections,
            count(*) filter (where s.mv_id is not null and (c.id is null or c.mv_id is distinct from s.mv_id)) as unlinked
       from cs_object c full join idsync_plan_cs s on s.id = c.id
      where s.id is null or c.id is null or s.mv_id is distinct from c.mv_id
      group by 1, 2`,
  );
  for (const r of rows.rows) {
    const i = impact(r.ma);
    i.provisions += +r.provisions;
    i.joins += +r.joins;
    i.projections += +r.projections;
    if (opts.outboundTargets.has(`${r.ma}\u0000${r.object_type}`)) i.deprovisions += +r.unlinked;
    else i.disconnects += +r.unlinked;
  }
  const lost = await view.query<{ ma: string; object_type: string; anchor: string | null; dn: string | null }>(
    `select ma, object_type, anchor, dn from (
       select s.ma, s.object_type, s.anchor, s.dn,
              row_number() over (partition by s.ma, s.object_type order by s.anchor, s.dn, s.id) as n
         from idsync_plan_cs s left join cs_object c on c.id = s.id
        where s.mv_id is not null and (c.id is null or c.mv_id is distinct from s.mv_id)
     ) x where n <= $1 order by ma, object_type, n`,
    [opts.samples],
  );
  for (const r of lost.rows) {
    const i = impact(r.ma);
    const list = opts.outboundTargets.has(`${r.ma}\u0000${r.object_type}`) ? i.samples.deprovisions : i.samples.disconnects;
    if (list.length < opts.samples) list.push(cardOf(r.ma, r.anchor, r.dn, opts.redaction));
  }
}

async function measureMetaverse(view: Queryable, opts: ImpactOptions): Promise<MetaverseImpact> {
  const c = (
    await view.query<{ projections: number; deletions: number; updates: number }>(
      `select count(*) filter (where s.id is null and m.deleted_at is null) as projections,
              count(*) filter (where s.id is not null and s.deleted_at is null and m.deleted_at is not null) as deletions,
              count(*) filter (where s.id is not null and m.deleted_at is null and s.attrs <> m.attrs) as updates
         from mv_object m left join idsync_plan_mv s on s.id = m.id`,
    )
  ).rows[0];
  const byAttr = await view.query<AttributeCount>(
    `select x.k as attribute, count(*) as objects
       from mv_object m join idsync_plan_mv s on s.id = m.id
      cross join lateral (select jsonb_object_keys(m.attrs) union select jsonb_object_keys(s.attrs)) as x(k)
      where m.deleted_at is null and s.attrs <> m.attrs and m.attrs -> x.k is distinct from s.attrs -> x.k
      group by 1 order by 2 desc, 1`,
  );
  const deleted = await view.query<{ id: number }>(
    `select m.id from mv_object m join idsync_plan_mv s on s.id = m.id
      where s.deleted_at is null and m.deleted_at is not null order by m.id limit $1`,
    [opts.samples],
  );
  const updated = await view.query<{ id: number; before: Attrs; after: Attrs }>(
    `select m.id, s.attrs as before, m.attrs as after from mv_object m join idsync_plan_mv s on s.id = m.id
      where m.deleted_at is null and s.attrs <> m.attrs order by m.id limit $1`,
    [opts.samples],
  );
  // Metaverse objects are named by their connectors (before the change: a deleted one has none now).
  const ids = [...deleted.rows.map((r) => r.id), ...updated.rows.map((r) => r.id)];
  const connectors = new Map<number, string[]>();
  if (ids.length > 0) {
    const rows = await view.query<{ mv_id: number; name: string }>(
      `select mv_id, ma || '/' || coalesce(anchor, dn, '?') as name from idsync_plan_cs where mv_id = any($1::bigint[]) order by 1, 2`,
      [ids],
    );
    for (const r of rows.rows) connectors.set(r.mv_id, [...(connectors.get(r.mv_id) ?? []), r.name]);
  }
  const samples = {
    deletions: deleted.rows.map((r): ObjectSample => ({ metaverseId: r.id, connectors: connectors.get(r.id) ?? [] })),
    updates: updated.rows.map((r): ObjectSample => {
      const names = [...new Set([...Object.keys(r.before), ...Object.keys(r.after)])].filter((a) => JSON.stringify(r.before[a]) !== JSON.stringify(r.after[a]));
      return {
        metaverseId: r.id,
        connectors: connectors.get(r.id) ?? [],
        attributes: attributeChanges(undefined, names, (a) => r.before[a], (a) => r.after[a], opts.redaction, true),
      };
    }),
  };
  return {
    projections: +c.projections,
    deletions: +c.deletions,
    updates: +c.updates,
    updatesByAttribute: byAttr.rows.map((r) => ({ attribute: r.attribute, objects: +r.objects })),
    samples,
  };
}

function emptyImpact(name: string): ManagementAgentImpact {
  return {
    name,
    adds: 0,
    updates: 0,
    renames: 0,
    deletes: 0,
    provisions: 0,
    deprovisions: 0,
    joins: 0,
    projections: 0,
    disconnects: 0,
    cancelled: 0,
    updatesByAttribute: [],
    samples: { adds: [], updates: [], renames: [], deletes: [], deprovisions: [], disconnects: [] },
  };
}

export function cardOf(ma: string, anchor: string | null, dn: string | null, redaction: Redaction): ObjectSample {
  const s: ObjectSample = {};
  if (anchor !== null) s.anchor = anchor;
  if (dn !== null) s.dn = redaction.dn(ma, dn);
  return s;
}

/** Sorted attribute → {before, after}, values redacted as declared. `before` absent when not shown. */
export function attributeChanges(
  ma: string | undefined,
  names: string[],
  before: (a: string) => unknown,
  after: (a: string) => unknown,
  redaction: Redaction,
  withBefore: boolean,
): Record<string, AttributeChange> {
  const out: Record<string, AttributeChange> = {};
  for (const a of [...names].sort()) {
    const change: AttributeChange = {};
    if (withBefore) change.before = redaction.value(ma, a, before(a) ?? null);
    change.after = redaction.value(ma, a, after(a) ?? null);
    out[a] = change;
  }
  return out;
}
