// Label and field selectors, with the grammar the real server accepts
// (`a=b,c!=d,e in (x,y),f notin (z),g,!h` for labels; `metadata.name=x,metadata.namespace!=y` for fields).
import { badRequest } from "./errors.ts";
import type { KObject } from "./resources.ts";

export type Matcher = (obj: KObject) => boolean;

/** Splits on commas that are not inside a parenthesised value set. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

function labelRequirement(req: string): (labels: Record<string, string>) => boolean {
  let m = /^!\s*([\w./-]+)$/.exec(req);
  if (m) {
    const key = m[1];
    return (l) => !(key in l);
  }
  m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
  if (m) {
    const [, key, op, set] = m;
    const values = new Set(set.split(",").map((v) => v.trim()));
    return op === "in" ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]);
  }
  m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(req);
  if (m) {
    const [, key, op, value] = m;
    return op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  m = /^([\w./-]+)\s*(<|>)\s*(-?\d+)$/.exec(req);
  if (m) {
    const [, key, op, value] = m;
    const bound = Number(value);
    return (l) => key in l && (op === "<" ? Number(l[key]) < bound : Number(l[key]) > bound);
  }
  m = /^([\w./-]+)$/.exec(req);
  if (m) {
    const key = m[1];
    return (l) => key in l;
  }
  throw badRequest(`unable to parse requirement: ${JSON.stringify(req)}`);
}

export function labelSelector(text: string | null): Matcher {
  if (!text) return () => true;
  const requirements = splitTopLevel(text).map(labelRequirement);
  return (obj) => requirements.every((r) => r(obj.metadata.labels ?? {}));
}

function fieldValue(obj: KObject, path: string): string {
  let v: unknown = obj;
  for (const part of path.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  return v === undefined || v === null ? "" : String(v);
}

/** `allowed` are the type's extra selectable fields; metadata.name and metadata.namespace always are. */
export function fieldSelector(text: string | null, allowed: string[]): Matcher {
  if (!text) return () => true;
  const fields = new Set(["metadata.name", "metadata.namespace", ...allowed]);
  const requirements = splitTopLevel(text).map((req) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${req}'`);
    const [, path, op, value] = m;
    if (!fields.has(path)) throw badRequest(`field label not supported: ${path}`);
    return (obj: KObject) => (fieldValue(obj, path) === value) === (op !== "!=");
  });
  return (obj) => requirements.every((r) => r(obj));
}

/** The name a `metadata.name=x` field selector pins, which RBAC checks against resourceNames. */
export function selectedName(text: string | null): string | undefined {
  if (!text) return undefined;
  for (const req of splitTopLevel(text)) {
    const m = /^metadata\.name\s*(==|=)\s*(.+)$/.exec(req);
    if (m) return m[2];
  }
  return undefined;
}
