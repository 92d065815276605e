// The modify request of an update: minimal value adds and deletes for multi-valued attributes
// (a 10k-member group gains one member with a one-value add), replaces for the rest; and the same
// computed again against the entry's values as they are now, when ours turned out stale.
import { Attribute, Change } from "ldapts";
import type { ValueChange } from "../types.ts";
import type { Job } from "./export.ts";
import { completeRanges } from "./ranged.ts";
import { isNoUserModification, readEntry, toWire, valueKey } from "./values.ts";

/**
 * The modify request for `changes` against the entry's values as they are now: multi-valued
 * attributes still change by value adds and deletes (a 10k-member group is never rewritten whole).
 */
export async function againstCurrent(changes: Record<string, ValueChange>, dn: string, job: Job): Promise<Change[]> {
  const res = await job.client.search(dn, {
    scope: "base",
    filter: "(objectClass=*)",
    attributes: Object.keys(changes).map((n) => job.map.wireName(n)),
    explicitBufferAttributes: job.map.buffers,
  });
  const entry = res.searchEntries[0];
  if (!entry) return modifications(changes, job, true);
  await completeRanges(job.client, entry);
  const current = readEntry(entry, job.map).attrs;
  const rebased: Record<string, ValueChange> = {};
  for (const [name, change] of Object.entries(changes)) rebased[name] = { replace: change.replace, previous: current[job.map.spec(name)?.name ?? name] ?? null };
  return modifications(rebased, job, false);
}

/**
 * The modify request for a set of changes. Multi-valued attributes whose previous values are known
 * become an add of the new values and a delete of the removed ones (a 10k-member group gains one
 * member with a one-value add); otherwise, or when `replaceAll`, a replace of the whole value set.
 * A null value replaces with no values, which deletes the attribute and is a no-op if absent.
 */
export function modifications(changes: Record<string, ValueChange>, job: Job, replaceAll: boolean): Change[] {
  const out: Change[] = [];
  for (const [name, change] of Object.entries(changes)) {
    if (isNoUserModification(name)) continue;
    const spec = job.map.spec(name);
    const type = job.map.wireName(name);
    const next = toWire(spec, change.replace);
    const multi = spec?.multiValued === true || Array.isArray(change.replace) || Array.isArray(change.previous);
    const known = change.previous !== undefined && change.previous !== null;
    if (!replaceAll && multi && known && next.length > 0) {
      const before = toWire(spec, change.previous);
      const nextKeys = new Set(next.map((v) => valueKey(spec, v)));
      const beforeKeys = new Set(before.map((v) => valueKey(spec, v)));
      const removed = before.filter((v) => !nextKeys.has(valueKey(spec, v)));
      const added = next.filter((v) => !beforeKeys.has(valueKey(spec, v)));
      if (removed.length > 0) out.push(new Change({ operation: "delete", modification: new Attribute({ type, values: removed as string[] | Buffer[] }) }));
      if (added.length > 0) out.push(new Change({ operation: "add", modification: new Attribute({ type, values: added as string[] | Buffer[] }) }));
      continue;
    }
    out.push(new Change({ operation: "replace", modification: new Attribute({ type, values: next as string[] | Buffer[] }) }));
  }
  return out;
}

