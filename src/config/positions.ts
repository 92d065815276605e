// Where each field of a YAML document sits in its file, so an error can name the line and column of
// the very field it is about (`spec.attributeFlows[1].expression`), not just the document.
//
// js-yaml has no source map, but its `listener` option reports every node it opens and closes with
// the parser's position. The open/close events nest exactly like the nodes, so replaying them gives
// a tree of (start position, parsed value) from which mapping keys and sequence items are matched
// to their paths. Best-effort by design: where the tree is ambiguous (explicit `?` keys, merge keys,
// aliases) a field simply has no entry and lookups fall back to the nearest enclosing field, and
// finally to the document's first line.
import yaml from "js-yaml";

export interface FieldPosition {
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export type PathSegment = string | number;

/** One parsed YAML document with the position of its first content line and of its fields. */
export interface PositionedDocument {
  value: unknown;
  /** 1-based line of the document's first content (after `---` and comments). */
  line: number;
  /** Formatted field path → position of the field (the key for mapping entries). */
  fields: Map<string, FieldPosition>;
}

// YAML as Kubernetes reads it: no implicit timestamps (`2024-01-01` stays a string, as in kubectl),
// merge keys (`<<: *defaults`) allowed. js-yaml exports its `types` at run time but not in its typings.
const mergeType = (yaml as unknown as { types?: { merge?: yaml.Type } }).types?.merge;
const SCHEMA = mergeType ? yaml.CORE_SCHEMA.extend({ implicit: [mergeType] }) : yaml.CORE_SCHEMA;

interface Frame {
  pos: number;
  kind?: string | null;
  result?: unknown;
  children: Frame[];
}

/**
 * Parses every document of a YAML text. Throws js-yaml's YAMLException (with `mark`) on a syntax error.
 * Empty documents are returned with value null/undefined so document indices match the file.
 */
export function parseDocumentsWithPositions(text: string, filename?: string): PositionedDocument[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const roots: Frame[] = [];
  const stack: Frame[] = [];
  const listener = (event: "open" | "close", state: { position: number; kind?: string | null; result?: unknown }) => {
    if (event === "open") {
      stack.push({ pos: state.position, children: [] });
      return;
    }
    const frame = stack.pop();
    if (!frame) return;
    frame.kind = state.kind;
    frame.result = state.result;
    (stack.length > 0 ? stack[stack.length - 1].children : roots).push(frame);
  };
  const values = yaml.loadAll(src, undefined, { filename, schema: SCHEMA, listener } as yaml.LoadOptions);
  const lines = lineStarts(src);
  // One root frame per document, in order; if that ever fails to hold, positions are dropped
  // rather than attached to the wrong document.
  const aligned = roots.length === values.length;
  return values.map((value, i) => {
    const fields = new Map<string, FieldPosition>();
    let line = 1;
    if (aligned) {
      const root = roots[i];
      line = toPosition(lines, skipBlanks(src, root.pos, true)).line;
      collect(root, [], src, lines, fields);
    }
    return { value, line, fields };
  });
}

function collect(outer: Frame, path: PathSegment[], src: string, lines: number[], out: Map<string, FieldPosition>): void {
  const frame = unwrap(outer);
  const value = frame.result;
  if (Array.isArray(value)) {
    // Items are matched to frames by value, in order: an empty item (`-` alone) has no frame at all.
    const children = frame.children;
    let j = 0;
    value.forEach((item, i) => {
      let k = j;
      while (k < children.length && children[k].result !== item) k++;
      if (k === children.length) return;
      j = k + 1;
      const p = [...path, i];
      out.set(formatPath(p), toPosition(lines, skipBlanks(src, children[k].pos, false)));
      collect(children[k], p, src, lines, out);
    });
  } else if (value !== null && typeof value === "object") {
    // Children alternate key, value; anything that is not a key of this mapping is skipped.
    const children = frame.children;
    for (let i = 0; i + 1 < children.length; ) {
      const key = children[i];
      if (key.kind === "scalar" && key.result !== null && key.result !== undefined && Object.hasOwn(value, String(key.result))) {
        const p = [...path, String(key.result)];
        const formatted = formatPath(p);
        if (!out.has(formatted)) out.set(formatted, toPosition(lines, skipBlanks(src, key.pos, false)));
        collect(children[i + 1], p, src, lines, out);
        i += 2;
      } else {
        i += 1;
      }
    }
  }
}

/** Block-sequence items and explicit keys wrap their node in one more frame holding the same value. */
function unwrap(frame: Frame): Frame {
  let f = frame;
  while (f.children.length === 1 && f.children[0].result === f.result) f = f.children[0];
  return f;
}

/** js-yaml reports some nodes at the whitespace before them; move to the first character of the node. */
function skipBlanks(src: string, pos: number, acrossLines: boolean): number {
  let p = pos;
  for (;;) {
    const c = src[p];
    if (c === " " || c === "\t" || (acrossLines && (c === "\n" || c === "\r"))) p++;
    else if (acrossLines && c === "#") {
      while (p < src.length && src[p] !== "\n") p++;
    } else break;
  }
  return p < src.length ? p : pos;
}

function lineStarts(src: string): number[] {
  const starts = [0];
  for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function toPosition(starts: number[], offset: number): FieldPosition {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

// ---------------------------------------------------------------- paths

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** ["spec", "attributeFlows", 1, "expression"] → "spec.attributeFlows[1].expression" */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (PLAIN_KEY.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The inverse of formatPath. */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /\.?([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path))) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

// ---------------------------------------------------------------- resource → positions

// Kept beside the resources rather than on them: the model's objects stay plain data (they are
// diffed, serialized and sent to the Kubernetes API), and a copied resource just loses precision.
const registry = new WeakMap<object, Map<string, FieldPosition>>();

export function attachPositions(resource: object, fields: Map<string, FieldPosition>): void {
  registry.set(resource, fields);
}

/** The position of the field at `path`, or of its nearest enclosing field that has one. */
export function positionOf(resource: object, path: string | undefined): FieldPosition | undefined {
  const fields = registry.get(resource);
  if (!fields || !path) return undefined;
  const segments = parsePath(path);
  for (let n = segments.length; n > 0; n--) {
    const hit = fields.get(formatPath(segments.slice(0, n)));
    if (hit) return hit;
  }
  return undefined;
}
