// Attribute value semantics shared by import, sync and export: what counts as "no value", and when
// two values are the same. Multi-valued attributes are sets (LDAP says so), compared order-free.
import { normalizeDN } from "../expr/dn.ts";
import type { AttrValue, Attributes } from "../expr/index.ts";

/** Canonical form: absent, empty string and empty list are all "no value" (null). */
export function normalizeValue(v: unknown): AttrValue {
  if (v === undefined || v === null || v === "") return null;
  if (Array.isArray(v)) {
    const items = v.filter((x) => x !== null && x !== undefined && x !== "").map((x) => String(x));
    if (items.length === 0) return null;
    return [...new Set(items)].sort();
  }
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return String(v);
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  const x = normalizeValue(a);
  const y = normalizeValue(b);
  if (x === null || y === null) return x === y;
  if (Array.isArray(x) || Array.isArray(y)) {
    const xs = Array.isArray(x) ? x : [String(x)];
    const ys = Array.isArray(y) ? y : [String(y)];
    return xs.length === ys.length && xs.every((v, i) => v === ys[i]);
  }
  return String(x) === String(y);
}

/**
 * valuesEqual for reference values that are DNs (an LDAP target's manager, member): the connector
 * reads them back normalized (lower-cased, canonical escaping) while the engine writes them as the
 * DN rule spelled them, so both sides are compared in normalizeDN's form. A value that is not a
 * DN is compared as it is.
 */
export function dnValuesEqual(a: unknown, b: unknown): boolean {
  // Fast path, and exact: DNs equal but for case normalize to the same string (normalizeDN lower-
  // cases; hex escapes decode to the same bytes). The usual case: a DN as written vs as read back.
  if (typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase()) return true;
  const norm = (v: unknown): unknown => {
    const n = normalizeValue(v);
    if (n === null) return null;
    const one = (x: string) => {
      try {
        return normalizeDN(x);
      } catch {
        return x;
      }
    };
    return Array.isArray(n) ? n.map(one) : one(String(n));
  };
  return valuesEqual(norm(a), norm(b));
}

/** Drops "no value" entries so that stored objects never carry nulls. */
export function compactAttributes(attrs: Attributes): Attributes {
  const out: Attributes = {};
  for (const k of Object.keys(attrs).sort()) {
    const v = normalizeValue(attrs[k]);
    if (v !== null) out[k] = Array.isArray(attrs[k]) ? v : (attrs[k] as AttrValue);
  }
  return out;
}

/** Names of the attributes whose values differ between two objects. */
export function changedAttributes(before: Attributes, after: Attributes): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => !valuesEqual(before[n], after[n])).sort();
}

export function attributesEqual(a: Attributes, b: Attributes): boolean {
  return changedAttributes(a, b).length === 0;
}

/** A value as a list of strings (for references, which may be single or multi-valued). */
export function valueList(v: AttrValue | undefined): string[] {
  const n = normalizeValue(v);
  if (n === null) return [];
  return Array.isArray(n) ? n : [String(n)];
}
