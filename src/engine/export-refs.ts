// References between the objects of one export run. A reference value names another object of the
// same MA (its DN or anchor); when that object is an add not exported yet and the add fails, the
// target refuses the reference (Active Directory: "00000525: specified dn doesn't exist"; a SQL
// foreign key) or keeps a dangling one (OpenLDAP, a CSV file). So an export run goes in two rounds:
//   1. every add and update that names no add not exported yet (pending or failed, never seen by an
//      import), or only adds this run has sent already;
//   2. the others, each value naming an add that failed (pending export in state 'error') left
//      out, as outbound.ts leaves such a reference unresolved: the group is written without the
//      member whose account could not be made. Adds named from within this round are sent in the
//      same connector call (the LDAP connector orders an add before what references it).
// The failed add's referrers were marked for recomputation when it failed (export.ts): the next
// sync settles them (also one sent in round 2 naming an add of round 2 that failed), and picks the
// reference up once the add succeeds. One round per level of a reference chain (manager of a
// manager) would avoid even that, but costs a connector call per level: a whole file rewrite each
// for CSV.
import { normalizeDN } from "../expr/dn.ts";
import type { AttrValue, Attributes } from "../expr/index.ts";
import { unsentAdds, type Queryable } from "../store/index.ts";
import type { EngineContext } from "./context.ts";
import type { ExportRow } from "./export.ts";
import { referenceByOf } from "./outbound.ts";
import { dnValuesEqual, normalizeValue, valuesEqual } from "./values.ts";

export interface ReferencePlan {
  ma: string;
  by: "anchor" | "dn";
  /** Object type → its reference attributes, lower-cased. */
  attrs: Map<string, Set<string>>;
}

/** The MA's reference attributes; undefined when it declares none (nothing to order). */
export function referencePlan(ctx: EngineContext, ma: string): ReferencePlan | undefined {
  const attrs = new Map<string, Set<string>>();
  for (const [name, type] of ctx.config.mas.get(ma)?.types ?? []) {
    const refs = type.spec.attributes.filter((a) => a.type === "reference").map((a) => a.name.toLowerCase());
    if (refs.length > 0) attrs.set(name, new Set(refs));
  }
  return attrs.size === 0 ? undefined : { ma, by: referenceByOf(ctx, ma), attrs };
}

/** The reference attributes a row writes, with their values. */
function referencesOf(plan: ReferencePlan, row: ExportRow): Array<[attr: string, values: string[]]> {
  const names = plan.attrs.get(row.object_type);
  if (!names || row.op === "delete") return [];
  const out: Array<[string, string[]]> = [];
  for (const [attr, v] of Object.entries(row.changes)) {
    if (!names.has(attr.toLowerCase())) continue;
    const n = normalizeValue(v);
    if (n !== null) out.push([attr, Array.isArray(n) ? n : [String(n)]]);
  }
  return out;
}

/** How a value is looked up: the normalized DN, or the anchor as it is; undefined for a malformed DN. */
function keyOf(plan: ReferencePlan, value: string): string | undefined {
  if (plan.by === "anchor") return value;
  try {
    return normalizeDN(value);
  } catch {
    return undefined;
  }
}

/** Unsent adds (pending or failed) among the objects the rows reference, by key. */
async function referencedAdds(db: Queryable, plan: ReferencePlan, rows: ExportRow[]): Promise<Map<string, { id: number; state: "pending" | "error" }>> {
  const keys = new Set<string>();
  for (const row of rows) for (const [, values] of referencesOf(plan, row)) for (const v of values) {
    const k = keyOf(plan, v);
    if (k !== undefined) keys.add(k);
  }
  return new Map((await unsentAdds(db, plan.ma, plan.by, [...keys])).map((r) => [r.key, { id: r.id, state: r.state }]));
}

export interface PreparedBatch {
  /** To send now, reference values naming a failed add left out. */
  send: ExportRow[];
  /** cs ids of rows that name an add this run has not sent yet. */
  wait: number[];
  /** Updates left with nothing to change once such values were left out: dropped, not sent. */
  dropped: number;
}

/**
 * Splits one batch of an export run. `sent`: the cs ids this run has sent so far; `force`: nothing
 * waits (round 2). A pending export that loses values is rewritten (what the next import confirms
 * is what was sent).
 */
export async function prepareBatch(db: Queryable, plan: ReferencePlan, rows: ExportRow[], sent: Set<number>, force: boolean): Promise<PreparedBatch> {
  const adds = await referencedAdds(db, plan, rows);
  if (adds.size === 0) return { send: rows, wait: [], dropped: 0 };
  const add = (v: string) => adds.get(keyOf(plan, v) ?? "\u0000");
  const rewritten: Array<{ id: number; changes: Attributes }> = [];
  const dropped: number[] = [];
  const out: PreparedBatch = { send: [], wait: [], dropped: 0 };
  for (const row of rows) {
    const refs = referencesOf(plan, row);
    // An add that names itself (a self-managed person) does not wait for itself.
    const waits = refs.some(([, values]) => values.some((v) => { const a = add(v); return a !== undefined && a.id !== row.cs_id && !sent.has(a.id); }));
    if (waits && !force) {
      out.wait.push(row.cs_id);
      continue;
    }
    const failed = refs.filter(([, values]) => values.some((v) => add(v)?.state === "error"));
    if (failed.length === 0) {
      out.send.push(row);
      continue;
    }
    const changes: Attributes = { ...row.changes };
    for (const [attr, values] of failed) {
      const kept = values.filter((v) => add(v)?.state !== "error");
      const value: AttrValue = kept.length === 0 ? null : Array.isArray(row.changes[attr]) ? kept : kept[0];
      const same = plan.by === "dn" ? dnValuesEqual : valuesEqual;
      // An add carries no empty attribute; an update that now writes what the object has is no change.
      if ((row.op === "add" && value === null) || (row.op === "update" && same(value, row.attrs[attr]))) delete changes[attr];
      else changes[attr] = value;
    }
    if (row.op === "update" && Object.keys(changes).length === 0 && !row.new_dn) {
      dropped.push(row.cs_id);
      continue;
    }
    rewritten.push({ id: row.cs_id, changes });
    out.send.push({ ...row, changes });
  }
  if (rewritten.length > 0) {
    await db.query(
      `update pending_export p set changes = v.changes, updated_at = now() from jsonb_to_recordset($1::jsonb) as v(id bigint, changes jsonb) where p.cs_id = v.id`,
      [JSON.stringify(rewritten)],
    );
  }
  if (dropped.length > 0) await db.query(`delete from pending_export where cs_id = any($1::bigint[])`, [dropped]);
  out.dropped = dropped.length;
  return out;
}
