// Restoring identities. A metaverse object deleted by a deletion rule stays soft-deleted for its
// grace period; a connector-space object that lost it remembers it (last_mv_id). When a source
// object comes back (its tombstone's anchor reappears, or a leaver is back in scope), or a new one
// matches a soft-deleted object by the join rules and no live one, the same metaverse object is
// restored instead of projecting a new one, and its target objects are reconnected by the outbound
// rules (formerConnectors). So an accident that is undone leaves no trace downstream.
import { mvByIds, type CsRow, type Queryable } from "../store/index.ts";
import { candidateKey, findJoinCandidates } from "./join-lookup.ts";
import type { joinKeys } from "./inbound.ts";
import type { CompiledMA } from "./rules.ts";

/**
 * For unjoined objects, the identity each would restore: the MV object it was connected to last
 * (live but unconnected here, or soft-deleted), else exactly one soft-deleted MV object its join
 * rules match when no live one does. Several soft-deleted matches restore none (never a guess).
 */
export async function restoreCandidates(
  tx: Queryable,
  ma: CompiledMA,
  unjoined: Array<{ row: CsRow; keys: ReturnType<typeof joinKeys>; projectInto?: string }>,
  live: Map<string, number[]>,
): Promise<Map<number, { id: number; type: string; deleted: boolean }>> {
  const out = new Map<number, { id: number; type: string; deleted: boolean }>();
  const types = (u: (typeof unjoined)[number]) => new Set([...u.keys.map((k) => k.rule.mvType), ...(u.projectInto ? [u.projectInto] : [])]);
  const former = await mvByIds(tx, unjoined.flatMap((u) => (u.row.last_mv_id !== null ? [u.row.last_mv_id] : [])));
  const byId = new Map(former.map((m) => [m.id, m]));
  const rest: typeof unjoined = [];
  for (const u of unjoined) {
    const m = u.row.last_mv_id !== null ? byId.get(u.row.last_mv_id) : undefined;
    if (m && types(u).has(m.object_type)) out.set(u.row.id, { id: m.id, type: m.object_type, deleted: m.deleted_at !== null });
    else rest.push(u);
  }
  // Join rules against soft-deleted objects, only for objects no live identity matches.
  const unmatched = rest.filter((u) => !u.keys.some((k) => k.values.some((v) => (live.get(candidateKey(k, v)) ?? []).length > 0)));
  const found = await findJoinCandidates(tx, unmatched.flatMap((u) => u.keys), "deleted");
  for (const u of unmatched) {
    for (const k of u.keys) {
      const ids = new Set(k.values.flatMap((v) => found.get(candidateKey(k, v)) ?? []));
      if (ids.size === 1) out.set(u.row.id, { id: [...ids][0], type: k.rule.mvType, deleted: true });
      if (ids.size > 0) break;
    }
  }
  return out;
}
