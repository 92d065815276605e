// The engine's state in a form that does not depend on internal ids or on processing order:
// metaverse objects named by their HR anchor, references by the referenced object's name.
import type { Database } from "../../src/store/index.ts";

export interface NormalizedState {
  metaverse: Record<string, { type: string; attrs: Record<string, unknown>; deleted: boolean; connectors: string[] }>;
  connectorSpaces: Record<string, { attrs: Record<string, unknown>; link: string; connectedTo: string | null }>;
  pendingExports: Record<string, { op: string; changes: Record<string, unknown>; state: string }>;
}

export async function normalizedState(db: Database): Promise<NormalizedState> {
  const mvs = (await db.query<{ id: number; object_type: string; attrs: Record<string, unknown>; deleted_at: string | null }>(`select id, object_type, attrs, deleted_at from mv_object`)).rows;
  const cs = (await db.query<{ id: number; ma: string; anchor: string | null; dn: string | null; attrs: Record<string, unknown>; link: string; mv_id: number | null }>(`select id, ma, anchor, dn, attrs, link, mv_id from cs_object`)).rows;
  const pe = (await db.query<{ cs_id: number; op: string; changes: Record<string, unknown>; state: string }>(`select cs_id, op, changes, state from pending_export`)).rows;
  const csName = new Map(cs.map((c) => [c.id, `${c.ma}/${c.anchor ?? c.dn}`]));
  // An MV object's name: its connectors' names, sorted (stable whatever the ids are).
  const mvName = new Map<number, string>();
  for (const m of mvs) {
    const names = cs.filter((c) => c.mv_id === m.id).map((c) => csName.get(c.id)!).sort();
    mvName.set(m.id, names[0] ?? `orphan:${JSON.stringify(m.attrs)}`);
  }
  const refs = (v: unknown) => (typeof v === "string" && /^\d+$/.test(v) && mvName.has(Number(v)) ? `→${mvName.get(Number(v))}` : v);
  const state: NormalizedState = { metaverse: {}, connectorSpaces: {}, pendingExports: {} };
  for (const m of mvs) {
    const attrs = Object.fromEntries(Object.entries(m.attrs).map(([k, v]) => [k, k === "manager" ? refs(v) : v]));
    state.metaverse[mvName.get(m.id)!] = {
      type: m.object_type,
      attrs,
      deleted: m.deleted_at !== null,
      connectors: cs.filter((c) => c.mv_id === m.id).map((c) => csName.get(c.id)!).sort(),
    };
  }
  for (const c of cs) state.connectorSpaces[csName.get(c.id)!] = { attrs: c.attrs, link: c.link, connectedTo: c.mv_id ? mvName.get(c.mv_id)! : null };
  for (const p of pe) state.pendingExports[csName.get(p.cs_id)!] = { op: p.op, changes: p.changes, state: p.state };
  return sortDeep(state);
}

function sortDeep<T>(v: T): T {
  if (Array.isArray(v)) return v.map(sortDeep) as T;
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])])) as T;
  }
  return v;
}
