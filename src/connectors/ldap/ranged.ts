// Ranged retrieval. AD hands out at most MaxValRange values of a multi-valued attribute per search
// (1500 by default): a 5,000-member group comes back as `member;range=0-1499`, and the rest must be
// asked for with `member;range=1500-*` and so on until the range ends in "*". An import that
// ignored this would read a large group's first 1500 members and remove all the others.
import type { Client, Entry } from "ldapts";

const RANGED = /^(.+);range=(\d+)-(\d+|\*)$/i;

/** Attributes of an entry that came back ranged: base name → the next start, or undefined when complete. */
export function rangedAttributes(entry: Entry): Array<{ key: string; base: string; next?: number }> {
  const out: Array<{ key: string; base: string; next?: number }> = [];
  for (const key of Object.keys(entry)) {
    const m = RANGED.exec(key);
    if (m) out.push({ key, base: m[1], next: m[3] === "*" ? undefined : Number(m[3]) + 1 });
  }
  return out;
}

/**
 * Completes every ranged attribute of `entry` in place: fetches the remaining windows with base
 * searches and stores all values under the attribute's plain name. `window` > 0 asks for windows of
 * that many values explicitly (a server that ranges by itself decides its own size).
 */
export async function completeRanges(client: Client, entry: Entry, window = 0): Promise<void> {
  for (const r of rangedAttributes(entry)) {
    const values = toList(entry[r.key]);
    delete entry[r.key];
    let next = r.next;
    while (next !== undefined) {
      const upper = window > 0 ? String(next + window - 1) : "*";
      const res = await client.search(entry.dn, { scope: "base", filter: "(objectClass=*)", attributes: [`${r.base};range=${next}-${upper}`] });
      const got = res.searchEntries[0];
      const part = got ? rangedAttributes(got).find((p) => p.base.toLowerCase() === r.base.toLowerCase()) : undefined;
      if (!got || !part) break; // nothing beyond: the previous window held the last value
      const chunk = toList(got[part.key]);
      for (const v of chunk) values.push(v);
      next = part.next;
      if (chunk.length === 0) break;
    }
    entry[r.base] = values as string[] | Buffer[];
  }
}

function toList(v: Entry[string] | undefined): Array<string | Buffer> {
  if (v === undefined) return [];
  return Array.isArray(v) ? [...v] : [v];
}
