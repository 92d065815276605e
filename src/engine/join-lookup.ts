// Join candidates for a batch, set-based: one query per (metaverse type, attribute) for all the
// objects' join keys, answered as "type\0attribute\0value" -> metaverse ids.
import { joinCandidates, type Queryable } from "../store/index.ts";
import type { JoinKey } from "./inbound.ts";

export function candidateKey(k: Pick<JoinKey, "metaverse"> & { rule: { mvType: string } }, value: string): string {
  return `${k.rule.mvType}\u0000${k.metaverse}\u0000${value}`;
}

export async function findJoinCandidates(tx: Queryable, keys: Iterable<JoinKey>, which: "live" | "deleted"): Promise<Map<string, number[]>> {
  const lookups = new Map<string, { mvType: string; attr: string; values: Set<string> }>();
  for (const k of keys) {
    const key = `${k.rule.mvType}\u0000${k.metaverse}`;
    let l = lookups.get(key);
    if (!l) lookups.set(key, (l = { mvType: k.rule.mvType, attr: k.metaverse, values: new Set() }));
    for (const v of k.values) l.values.add(v);
  }
  const out = new Map<string, number[]>();
  for (const [key, l] of lookups) {
    for (const c of await joinCandidates(tx, l.mvType, l.attr, [...l.values], which)) {
      const ck = `${key}\u0000${c.value}`;
      const list = out.get(ck) ?? [];
      if (!list.includes(c.id)) list.push(c.id);
      out.set(ck, list);
    }
  }
  return out;
}
