// Field ownership (metadata.managedFields) and a simplified server-side apply.
//
// Simplifications, each on purpose: lists are atomic (the default for CRD lists without
// x-kubernetes-list-type), and ownership is per leaf field. What is kept because clients depend
// on it: an applier owns the fields it applied; applying a field another manager owns with a
// different value is a 409 conflict unless force=true; a field an applier stops applying is
// removed unless someone else owns it; an update (PUT/merge patch) takes ownership of the fields it changes.
import { ApiError } from "./errors.ts";
import { deepEqual } from "./patch.ts";
import type { KObject, ManagedFieldsEntry } from "./resources.ts";

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Which part of an object a request may write: the main resource (without status) or /status. */
export type Scope = { subresource?: "status"; statusSubresource: boolean };

const TRACKED_METADATA = new Set(["labels", "annotations", "finalizers", "ownerReferences"]);

function inScope(top: string, scope: Scope): boolean {
  if (top === "apiVersion" || top === "kind") return false;
  if (scope.subresource === "status") return top === "status";
  return !(top === "status" && scope.statusSubresource);
}

/** Leaf paths of an object within a scope: maps descend, anything else is one field. */
export function leafPaths(obj: Json, scope: Scope): string[][] {
  const out: string[][] = [];
  const walk = (value: unknown, path: string[]) => {
    if (isMap(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    } else if (value !== null && value !== undefined) out.push(path);
  };
  for (const [top, value] of Object.entries(obj)) {
    if (!inScope(top, scope)) continue;
    if (top === "metadata" && isMap(value)) {
      for (const [k, v] of Object.entries(value)) if (TRACKED_METADATA.has(k)) walk(v, ["metadata", k]);
    } else walk(value, [top]);
  }
  return out;
}

function toFieldsV1(paths: string[][]): Json {
  const root: Json = {};
  for (const path of paths) {
    let node = root;
    for (const part of path) node = (node[`f:${part}`] ??= {}) as Json;
  }
  return root;
}

function fromFieldsV1(fields: Json, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [key, sub] of Object.entries(fields)) {
    if (!key.startsWith("f:")) continue;
    const path = [...prefix, key.slice(2)];
    if (isMap(sub) && Object.keys(sub).some((k) => k.startsWith("f:"))) out.push(...fromFieldsV1(sub, path));
    else out.push(path);
  }
  return out;
}

const pathKey = (p: string[]) => JSON.stringify(p);

function valueAt(obj: unknown, path: string[]): unknown {
  let v = obj;
  for (const part of path) v = isMap(v) ? v[part] : undefined;
  return v;
}

function deleteAt(obj: Json, path: string[]): void {
  const container = valueAt(obj, path.slice(0, -1));
  if (!isMap(container)) return;
  delete container[path[path.length - 1]];
  // Drop maps the removal left empty (never a top-level field such as spec or metadata).
  for (let depth = path.length - 1; depth >= 2; depth--) {
    const node = valueAt(obj, path.slice(0, depth));
    if (!isMap(node) || Object.keys(node).length > 0) break;
    delete (valueAt(obj, path.slice(0, depth - 1)) as Json)[path[depth - 1]];
  }
}

function deepMerge(target: Json, source: Json): void {
  for (const [k, v] of Object.entries(source)) {
    if (v === null) delete target[k];
    else if (isMap(v) && isMap(target[k])) deepMerge(target[k] as Json, v);
    else target[k] = structuredClone(v);
  }
}

const sameEntry = (e: ManagedFieldsEntry, manager: string, operation: string, scope: Scope) =>
  e.manager === manager && e.operation === operation && (e.subresource ?? "") === (scope.subresource ?? "");

function setEntry(
  entries: ManagedFieldsEntry[],
  manager: string,
  operation: "Apply" | "Update",
  apiVersion: string,
  scope: Scope,
  paths: string[][],
  now: string,
): ManagedFieldsEntry[] {
  const rest = entries.filter((e) => !sameEntry(e, manager, operation, scope));
  if (paths.length === 0) return rest;
  const entry: ManagedFieldsEntry = { manager, operation, apiVersion, time: now, fieldsType: "FieldsV1", fieldsV1: toFieldsV1(paths) };
  if (scope.subresource) entry.subresource = scope.subresource;
  return [...rest, entry];
}

function withoutPaths(entries: ManagedFieldsEntry[], drop: Set<string>): ManagedFieldsEntry[] {
  return entries
    .map((e) => ({ ...e, fieldsV1: toFieldsV1(fromFieldsV1(e.fieldsV1).filter((p) => !drop.has(pathKey(p)))) }))
    .filter((e) => Object.keys(e.fieldsV1).length > 0);
}

/**
 * Records an Update (create, PUT, non-apply PATCH): the manager takes ownership of every field it
 * set or changed; removed fields are owned by nobody any more.
 */
export function trackUpdate(
  old: KObject | undefined,
  updated: KObject,
  manager: string,
  apiVersion: string,
  scope: Scope,
  now: string,
): void {
  const before = new Map((old ? leafPaths(old, scope) : []).map((p) => [pathKey(p), p]));
  const after = leafPaths(updated, scope);
  const changed = after.filter((p) => !before.has(pathKey(p)) || !deepEqual(valueAt(old, p), valueAt(updated, p)));
  const afterKeys = new Set(after.map(pathKey));
  const removed = [...before.keys()].filter((k) => !afterKeys.has(k));
  let entries = withoutPaths(updated.metadata.managedFields ?? [], new Set([...changed.map(pathKey), ...removed]));
  if (changed.length > 0) {
    const mine = entries.find((e) => sameEntry(e, manager, "Update", scope));
    const owned = mine ? fromFieldsV1(mine.fieldsV1) : [];
    entries = setEntry(entries, manager, "Update", apiVersion, scope, [...owned, ...changed], now);
  }
  updated.metadata.managedFields = entries;
}

/** Server-side apply of `applied` onto `current` (undefined: create). Returns the new object. */
export function serverSideApply(
  current: KObject,
  applied: KObject,
  manager: string,
  force: boolean,
  apiVersion: string,
  scope: Scope,
  now: string,
): KObject {
  const result = structuredClone(current);
  let entries = result.metadata.managedFields ?? [];
  const appliedPaths = leafPaths(applied, scope);
  const appliedKeys = new Set(appliedPaths.map(pathKey));

  const conflicts: Array<{ manager: string; field: string }> = [];
  const takeOver = new Set<string>();
  for (const entry of entries) {
    if (sameEntry(entry, manager, "Apply", scope) || (entry.subresource ?? "") !== (scope.subresource ?? "")) continue;
    for (const owned of fromFieldsV1(entry.fieldsV1)) {
      if (!appliedKeys.has(pathKey(owned)) || deepEqual(valueAt(current, owned), valueAt(applied, owned))) continue;
      if (force) takeOver.add(pathKey(owned));
      else conflicts.push({ manager: entry.manager, field: "." + owned.join(".") });
    }
  }
  if (conflicts.length > 0) {
    const list = conflicts.map((c) => `conflict with "${c.manager}": ${c.field}`);
    throw new ApiError(
      409,
      "Conflict",
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""}: ${list.join("\n")}`,
      {
        causes: conflicts.map((c) => ({ reason: "FieldManagerConflict", message: `conflict with "${c.manager}"`, field: c.field })),
      },
    );
  }
  if (takeOver.size) entries = withoutPaths(entries, takeOver);

  // Fields this manager applied before and no longer applies go, unless another manager owns them.
  const previous = entries.find((e) => sameEntry(e, manager, "Apply", scope));
  const ownedByOthers = new Set(
    entries.filter((e) => e !== previous).flatMap((e) => fromFieldsV1(e.fieldsV1).map(pathKey)),
  );
  for (const p of previous ? fromFieldsV1(previous.fieldsV1) : []) {
    if (!appliedKeys.has(pathKey(p)) && !ownedByOthers.has(pathKey(p))) deleteAt(result, p);
  }

  const source: Json = {};
  for (const [top, value] of Object.entries(applied)) {
    if (top === "metadata" && isMap(value)) {
      const meta: Json = {};
      for (const [k, v] of Object.entries(value)) if (TRACKED_METADATA.has(k)) meta[k] = v;
      source.metadata = meta;
    } else if (inScope(top, scope)) source[top] = value;
  }
  deepMerge(result as Json, source);
  result.metadata.managedFields = setEntry(entries, manager, "Apply", apiVersion, scope, appliedPaths, now);
  return result;
}
