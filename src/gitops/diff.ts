// The configuration diff: which CRs are added, changed or removed between two sets, and which of
// their fields changed (deep-diff underneath). Only what the user declares is compared — the spec,
// and for CRs read from a cluster the labels and annotations — never the loader's `source`, the
// status, or the metadata the API server keeps (uid, resourceVersion, generation, managedFields).
//
// Two refinements make the diff readable in a pull request:
//   - lists of objects that carry a unique key (attribute flows by `target`, object types and
//     attributes by `name`, join criteria by `metaverse`) are matched by that key, so inserting a flow
//     at the top is one added flow, not every flow changed; a pure order change is one "reordered";
//   - lists of plain values (anchor, objectClasses, personalData.attributes) change as a whole.
import deepDiff from "deep-diff";
import type { AnyResource } from "../config/model.ts";
import type { ConfigDiff, FieldChange, ResourceChange } from "./model.ts";

/** A resource reduced to what is compared. */
export interface ComparableResource {
  kind: string;
  name: string;
  namespace?: string;
  file?: string;
  body: Record<string, unknown>;
}

const LIST_KEYS = ["target", "name", "metaverse"];
const KIND_ORDER = ["ManagementAgent", "SyncRule", "RetentionPolicy"];
/** Annotations tools add on their own; comparing them would report every kubectl apply as drift. */
const NOISY_ANNOTATION = /^(kubectl\.kubernetes\.io\/|deployment\.kubernetes\.io\/|meta\.helm\.sh\/|argocd\.argoproj\.io\/)/;

/**
 * What is compared of a resource: its spec; with `metadata: true` also its labels and (user-set)
 * annotations, as a cluster holds them.
 */
export function comparable(resource: AnyResource, opts: { metadata?: boolean; namespace?: boolean } = {}): ComparableResource {
  const body: Record<string, unknown> = { spec: resource.spec ?? {} };
  if (opts.metadata) {
    const labels = resource.metadata.labels ?? {};
    const annotations = Object.fromEntries(Object.entries(resource.metadata.annotations ?? {}).filter(([k]) => !NOISY_ANNOTATION.test(k)));
    if (Object.keys(labels).length > 0) body.labels = labels;
    if (Object.keys(annotations).length > 0) body.annotations = annotations;
  }
  return {
    kind: resource.kind,
    name: resource.metadata.name,
    namespace: opts.namespace ? resource.metadata.namespace : undefined,
    file: resource.source?.file,
    body,
  };
}

const keyOf = (r: ComparableResource) => `${r.kind}\u0000${r.namespace ?? ""}\u0000${r.name}`;

/** The diff from `before` (applied, or in the cluster) to `after` (the files in git). */
export function diffResources(before: ComparableResource[], after: ComparableResource[]): ConfigDiff {
  const old = new Map(before.map((r) => [keyOf(r), r]));
  const next = new Map(after.map((r) => [keyOf(r), r]));
  const resources: ResourceChange[] = [];
  let unchanged = 0;
  for (const [key, r] of next) {
    const o = old.get(key);
    const base = { kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}), ...(r.file ? { file: r.file } : {}) };
    if (!o) {
      resources.push({ ...base, change: "added", fields: [] });
      continue;
    }
    const fields = diffFields(o.body, r.body);
    if (fields.length === 0) unchanged++;
    else resources.push({ ...base, change: "changed", fields });
  }
  for (const [key, o] of old) {
    if (!next.has(key)) resources.push({ kind: o.kind, name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}), change: "removed", fields: [] });
  }
  resources.sort(
    (a, b) =>
      rank(a.kind) - rank(b.kind) || cmp(a.kind, b.kind) || cmp(a.namespace ?? "", b.namespace ?? "") || cmp(a.name, b.name),
  );
  const count = (c: ResourceChange["change"]) => resources.filter((r) => r.change === c).length;
  return { added: count("added"), changed: count("changed"), removed: count("removed"), unchanged, resources };
}

function rank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i < 0 ? KIND_ORDER.length : i;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Segment = string | number;

/** Field-level changes between two bodies, in document order. */
export function diffFields(before: unknown, after: unknown): FieldChange[] {
  const reordered: FieldChange[] = [];
  const lhs = keyLists(before, [], after, reordered);
  const rhs = keyLists(after, [], before, []);
  const out: FieldChange[] = [...reordered];
  const seenWhole = new Set<string>();
  for (const d of deepDiff.diff(lhs, rhs) ?? []) {
    let path: Segment[] = [...(d.path ?? [])];
    let kind = d.kind;
    let l: unknown = (d as { lhs?: unknown }).lhs;
    let r: unknown = (d as { rhs?: unknown }).rhs;
    if (d.kind === "A") {
      path.push(d.index);
      kind = d.item.kind;
      l = (d.item as { lhs?: unknown }).lhs;
      r = (d.item as { rhs?: unknown }).rhs;
    }
    // A list of plain values changes as a whole: one entry with the complete before and after.
    const whole = plainListPrefix(lhs, rhs, path);
    if (whole) {
      const p = formatPath(whole);
      if (seenWhole.has(p)) continue;
      seenWhole.add(p);
      path = whole;
      l = get(lhs, whole);
      r = get(rhs, whole);
      kind = l === undefined ? "N" : r === undefined ? "D" : "E";
    }
    const change: FieldChange = { path: formatPath(path), change: kind === "N" ? "added" : kind === "D" ? "removed" : "changed" };
    if (kind !== "N") change.before = l;
    if (kind !== "D") change.after = r;
    out.push(change);
  }
  return out;
}

/**
 * Replaces lists of uniquely keyed objects by objects keyed "[key=value]" (recursively). When the
 * other side has the same list with its common items in another order, a "reordered" change is noted.
 */
function keyLists(v: unknown, path: Segment[], other: unknown, reordered: FieldChange[]): unknown {
  if (Array.isArray(v)) {
    const key = listKey(v);
    const otherList = Array.isArray(other) ? other : undefined;
    if (key && (!otherList || listKey(otherList) === key)) {
      const out: Record<string, unknown> = {};
      const otherByKey = new Map((otherList ?? []).map((o) => [String((o as Record<string, unknown>)[key]), o]));
      for (const item of v) {
        const seg = `[${key}=${String((item as Record<string, unknown>)[key])}]`;
        out[seg] = keyLists(item, [...path, seg], otherByKey.get(String((item as Record<string, unknown>)[key])), reordered);
      }
      if (otherList) {
        const mine = v.map((i) => String((i as Record<string, unknown>)[key]));
        const theirs = otherList.map((i) => String((i as Record<string, unknown>)[key]));
        const common = new Set(mine.filter((k) => theirs.includes(k)));
        const a = mine.filter((k) => common.has(k));
        const b = theirs.filter((k) => common.has(k));
        if (a.some((k, i) => k !== b[i])) reordered.push({ path: formatPath(path), change: "reordered", before: a, after: b });
      }
      return out;
    }
    return v.map((item, i) => keyLists(item, [...path, i], otherList?.[i], reordered));
  }
  if (v !== null && typeof v === "object") {
    const o = other !== null && typeof other === "object" && !Array.isArray(other) ? (other as Record<string, unknown>) : {};
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, keyLists(x, [...path, k], o[k], reordered)]));
  }
  return v;
}

/** The key field shared, with unique string values, by every item of a list of objects. */
function listKey(list: unknown[]): string | undefined {
  if (list.length === 0 || !list.every((i) => i !== null && typeof i === "object" && !Array.isArray(i))) return undefined;
  for (const k of LIST_KEYS) {
    const values = list.map((i) => (i as Record<string, unknown>)[k]);
    if (values.every((x) => typeof x === "string") && new Set(values).size === values.length) return k;
  }
  return undefined;
}

/** The shortest prefix of path at which either side holds a list of plain values. */
function plainListPrefix(lhs: unknown, rhs: unknown, path: Segment[]): Segment[] | undefined {
  for (let n = 1; n <= path.length; n++) {
    const prefix = path.slice(0, n);
    if (isPlainList(get(lhs, prefix)) || isPlainList(get(rhs, prefix))) return prefix;
  }
  return undefined;
}

function isPlainList(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => x === null || typeof x !== "object");
}

function get(v: unknown, path: Segment[]): unknown {
  let cur = v;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** spec.attributeFlows[target=mail].expression, spec.schedule[1].every, labels["app.kubernetes.io/name"] */
export function formatPath(path: Segment[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (seg.startsWith("[")) out += seg;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += (out ? "." : "") + seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
