// Patch formats the real server accepts on PATCH: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902), strategic merge patch (treated as merge patch: custom resources have no patch
// strategies, and for the built-ins served here only list merging would differ), and server-side
// apply (fields.ts). Error codes follow the server: an undecodable patch is 400, a patch that
// does not apply to the object (missing path, failed `test`) is 422.
import { ApiError, badRequest } from "./errors.ts";

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export const PATCH_TYPES = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return structuredClone(patch);
  const result: Json = isMap(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** A patch that is well-formed but does not apply, as the server reports it. */
function doesNotApply(message: string): ApiError {
  return new ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {
    causes: [{ reason: "UnexpectedServerResponse", message }],
  });
}

function parsePointer(pointer: unknown, op: string): string[] {
  if (typeof pointer !== "string" || (pointer !== "" && !pointer.startsWith("/"))) {
    throw badRequest(`jsonpatch ${op} operation does not apply: doc is missing path: ${JSON.stringify(pointer)}`);
  }
  return pointer === "" ? [] : pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The container holding the last token of `path`, and that token. */
function locate(doc: unknown, path: string[], op: string, pointer: string): [Json | unknown[], string] {
  let node: unknown = doc;
  for (const part of path.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(part)] : isMap(node) ? node[part] : undefined;
    if (node === undefined) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${pointer}"`);
  }
  if (!isMap(node) && !Array.isArray(node)) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${pointer}"`);
  return [node, path[path.length - 1]];
}

function arrayIndex(arr: unknown[], token: string, forInsert: boolean, op: string, pointer: string): number {
  if (forInsert && token === "-") return arr.length;
  const i = /^\d+$/.test(token) ? Number(token) : NaN;
  if (Number.isNaN(i) || i > arr.length || (!forInsert && i === arr.length)) {
    throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing path: "${pointer}": index out of range`);
  }
  return i;
}

function getAt(doc: unknown, path: string[], op: string, pointer: string): unknown {
  if (path.length === 0) return doc;
  const [container, token] = locate(doc, path, op, pointer);
  const value = Array.isArray(container)
    ? container[arrayIndex(container, token, false, op, pointer)]
    : container[token];
  if (value === undefined) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing key: ${pointer}`);
  return value;
}

function removeAt(doc: unknown, path: string[], op: string, pointer: string): unknown {
  const [container, token] = locate(doc, path, op, pointer);
  if (Array.isArray(container)) return container.splice(arrayIndex(container, token, false, op, pointer), 1)[0];
  if (!(token in container)) throw doesNotApply(`jsonpatch ${op} operation does not apply: doc is missing key: ${pointer}`);
  const value = container[token];
  delete container[token];
  return value;
}

function addAt(doc: unknown, path: string[], value: unknown, op: string, pointer: string, replace: boolean): unknown {
  if (path.length === 0) return value;
  const [container, token] = locate(doc, path, op, pointer);
  if (Array.isArray(container)) {
    const i = arrayIndex(container, token, !replace, op, pointer);
    container.splice(i, replace ? 1 : 0, value);
  } else {
    if (replace && !(token in container)) throw doesNotApply(`jsonpatch replace operation does not apply: doc is missing key: ${pointer}`);
    container[token] = value;
  }
  return doc;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (isMap(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = structuredClone(target);
  for (const operation of operations) {
    if (!isMap(operation)) throw badRequest("json: cannot unmarshal into Go value of type jsonpatch.Operation");
    const op = String(operation.op);
    const pointer = String(operation.path);
    const path = parsePointer(operation.path, op);
    switch (op) {
      case "add":
        doc = addAt(doc, path, structuredClone(operation.value), op, pointer, false);
        break;
      case "replace":
        doc = addAt(doc, path, structuredClone(operation.value), op, pointer, true);
        break;
      case "remove":
        removeAt(doc, path, op, pointer);
        break;
      case "move":
      case "copy": {
        const fromPointer = String(operation.from);
        const from = parsePointer(operation.from, op);
        const value = op === "move" ? removeAt(doc, from, op, fromPointer) : structuredClone(getAt(doc, from, op, fromPointer));
        doc = addAt(doc, path, value, op, pointer, false);
        break;
      }
      case "test":
        if (!deepEqual(getAt(doc, path, op, pointer), operation.value)) throw doesNotApply(`testing value ${pointer} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${op}`);
    }
  }
  return doc;
}
