// Per-object checks of what a connector read, so that one bad object fails that object and not
// the run: ambiguous anchors, and text PostgreSQL cannot store.
import type { ImportedObject } from "../connectors/types.ts";
import type { RunRecorder } from "./run.ts";

/**
 * Two objects with one anchor in a batch: which is the real one is unknowable, so neither is
 * staged and the object stays as it was (a connector that streams, like CSV, finds the ones that
 * lie in different batches itself).
 */
export function withoutAmbiguous(objects: ImportedObject[], unreadable: Set<string>, run: RunRecorder): ImportedObject[] {
  const count = new Map<string, number>();
  for (const o of objects) count.set(o.anchor, (count.get(o.anchor) ?? 0) + 1);
  if (count.size === objects.length) return objects;
  return objects.filter((o) => {
    const n = count.get(o.anchor)!;
    if (n === 1) return true;
    unreadable.add(o.anchor);
    run.error({ anchor: o.anchor, dn: o.dn, code: "duplicate-anchor", message: `anchor '${o.anchor}' was read ${n} times: ambiguous, none is imported and the object stays as it was` });
    return false;
  });
}

/** PostgreSQL refused text: a NUL (22P05 in jsonb, 22021 in text) or an invalid escape (22P02). */
export function isUnstorableText(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return (code === "22P05" || code === "22021" || code === "22P02") && /unicode|byte sequence|surrogate|escape/i.test((e as Error).message);
}

/** The first attribute (or the anchor / DN) holding text PostgreSQL cannot store, described. */
export function unstorableAttribute(o: ImportedObject): string | undefined {
  // String.prototype.isWellFormed is in Node 20, not yet in this TypeScript lib (ES2022).
  const bad = (s: string) => s.includes("\u0000") || !(s as unknown as { isWellFormed(): boolean }).isWellFormed();
  if (bad(o.anchor)) return "the anchor holds a NUL character or broken Unicode";
  if (o.dn !== undefined && bad(o.dn)) return "the DN holds a NUL character or broken Unicode";
  for (const [name, v] of Object.entries(o.attrs)) {
    const values = Array.isArray(v) ? v : [v];
    if (values.some((x) => typeof x === "string" && bad(x))) return `attribute ${name} holds a NUL character (U+0000) or broken Unicode, which cannot be stored`;
  }
  return undefined;
}

