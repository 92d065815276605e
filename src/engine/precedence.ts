// Ranked attribute precedence: for each metaverse attribute, the contribution of the rule with the
// lowest precedence number that supplies a value wins; a null falls through to the next rule. A value
// nobody supplies any more is recalled (the attribute disappears). Pure: the sync gathers the
// contributions of every connector of an MV object and calls this.
import type { AttrValue, Attributes } from "../expr/index.ts";
import { normalizeValue } from "./values.ts";

export interface Contribution {
  csId: number;
  ma: string;
  rule: string;
  precedence: number;
  values: Attributes;
}

export interface LineageEntry {
  ma: string;
  rule: string;
  cs: number;
}

export interface ResolvedAttributes {
  attrs: Attributes;
  lineage: Record<string, LineageEntry>;
}

export function resolvePrecedence(contributions: Contribution[]): ResolvedAttributes {
  // Deterministic order whatever order the rows came in: precedence, then rule name, then object id.
  const ranked = [...contributions].sort(
    (a, b) => a.precedence - b.precedence || a.rule.localeCompare(b.rule) || a.csId - b.csId,
  );
  const attrs: Attributes = {};
  const lineage: Record<string, LineageEntry> = {};
  for (const c of ranked) {
    for (const name of Object.keys(c.values)) {
      if (name in attrs) continue;
      const v: AttrValue = normalizeValue(c.values[name]);
      if (v === null) continue;
      attrs[name] = Array.isArray(c.values[name]) ? v : (c.values[name] as AttrValue);
      lineage[name] = { ma: c.ma, rule: c.rule, cs: c.csId };
    }
  }
  return { attrs: sortKeys(attrs), lineage: sortKeys(lineage) };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}
