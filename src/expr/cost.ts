// Static cost estimation of a CEL expression, in the spirit of Kubernetes' CEL cost estimator.
//
// CEL has no loops, but its macros (all, exists, exists_one, map, filter) expand into
// comprehensions, and comprehensions nest: `a.map(x, a.map(y, a.map(z, ...)))` over a list of
// 10,000 values is 10^12 steps. @bufbuild/cel has no cost tracking, so we estimate before running.
//
// The estimate walks the parsed AST once. Each node costs 1; a comprehension costs
//   range + init + N × (loopCondition + loopStep) + result
// where N is an upper bound of the iterated list's size. Sizes flow through the walk as a Shape:
// a list literal has its length, an attribute read has an assumed maximum (validate time) or the
// object's real size (run time, see index.ts), split() is bounded by its string's length, and the
// list a map/filter builds is as long as its range. Functions that scan or build strings cost in
// proportion to the characters they touch, so a join() or replace() blow-up is seen too. The
// result is flattened into an attribute value, which costs one unit per value it holds.
//
// The numbers are units of work of roughly one interpreter step (0.1 µs for a plain comparison,
// up to ~1 µs where a step allocates, as map does), not time: they exist to refuse the
// pathological, and realistic identity expressions (a filter over a group's members, a name
// concatenation, a DN escape) cost far less than the budgets below.

/** Largest estimated cost `idsync validate` accepts, attributes at their assumed maxima: Kubernetes' per-expression limit. */
export const VALIDATE_COST_BUDGET = 1_000_000;
/**
 * Largest estimated cost one evaluation may have, computed with the object's real values. Ten
 * times the validate budget: a validated expression keeps working on objects ten times larger
 * than assumed (a filter over a group of ~900,000 members), and the worst accepted evaluation
 * takes seconds, not minutes.
 */
export const RUNTIME_COST_BUDGET = 10_000_000;
/** Assumed number of values of a multi-valued attribute (members of a large group, proxy addresses). */
export const ASSUMED_MAX_VALUES = 10_000;
/**
 * Assumed length in characters of one attribute value: an email address has at most 254 (RFC
 * 5321), names and DNs are shorter in practice. Only string work scales with it, at CHAR_COST.
 */
export const ASSUMED_MAX_LENGTH = 256;
/** Cost of one character scanned or built by a native string function: V8 does ~100 in an interpreter step. */
const CHAR_COST = 0.01;
/** Estimates saturate here, so huge products stay comparable numbers (never Infinity or NaN). */
const CAP = 1e18;

/** An upper bound of a value's size. */
export interface Shape {
  /** Elements, when the value is a list, or entries when it is a map (iterating a map yields its keys). */
  readonly n: number;
  /** Characters, when the value is a string (or bytes). */
  readonly chars: number;
  /** Every element's shape (for a map: its keys' and values'). */
  readonly elem?: Shape;
}

/** What the estimator knows of the expression's one variable (`source`, `mv` or `object`). */
export interface CostModel {
  readonly variable: string;
  /** The shape of `variable.name` (one value or many); of any attribute when name is undefined. */
  attribute(name: string | undefined): Shape;
  /** How many attributes the object holds (iterating the object iterates their names). */
  readonly attributeCount: number;
}

export interface CostEstimate {
  readonly cost: number;
  /** The most expensive part, in words: "nested comprehensions over source.members × source.groups". */
  hotspot(): string;
}

const SCALAR: Shape = { n: 0, chars: 24 };
const NOTHING: Shape = { n: 0, chars: 0 };

/** The validate-time model: every attribute may be a list of ASSUMED_MAX_VALUES values of ASSUMED_MAX_LENGTH characters. */
export function assumedModel(variable: string, attributes?: ReadonlySet<string>): CostModel {
  const value: Shape = { n: 0, chars: ASSUMED_MAX_LENGTH };
  const attr: Shape = { n: ASSUMED_MAX_VALUES, chars: ASSUMED_MAX_LENGTH, elem: value };
  return { variable, attribute: () => attr, attributeCount: attributes?.size ?? 1_000 };
}

/** The shape of a real attribute value, for the run-time estimate. Linear in the number of values. */
export function shapeOf(value: unknown): Shape {
  if (value === null || value === undefined) return NOTHING;
  if (typeof value === "string") return { n: 0, chars: value.length };
  if (Array.isArray(value)) {
    let longest = 0;
    for (const v of value) longest = Math.max(longest, typeof v === "string" ? v.length : SCALAR.chars);
    return { n: value.length, chars: 0, elem: { n: 0, chars: longest } };
  }
  return SCALAR;
}

type AnyNode = { exprKind: { case: string | undefined; value?: any } };

/** The costliest part found so far. Described in words only when reported: the run-time estimate runs per object. */
interface Hot {
  cost: number;
  /** The nested comprehensions' ranges, outermost first, with their sizes. */
  loops?: Array<{ range: AnyNode; n: number }>;
  /** Or a single costly call. */
  call?: { fn: string; on: AnyNode | undefined };
}

interface Est {
  cost: number;
  shape: Shape;
  hot?: Hot;
}

/** Variables bound by enclosing comprehensions. */
interface Scope {
  name: string;
  shape: Shape;
  parent?: Scope;
}

export function estimateCost(root: AnyNode, model: CostModel): CostEstimate {
  const e = est(root, model, undefined);
  // The result is turned into an attribute value: one unit per value it holds.
  const flatten = e.shape.n > 0 ? values(e.shape) : 0;
  return {
    cost: sat(e.cost + flatten),
    hotspot: () => (flatten > (e.hot?.cost ?? 0) ? `a result of up to ${formatCost(flatten)} values` : e.hot ? describeHot(e.hot) : "the expression"),
  };
}

/** True when the expression has a comprehension: only those can cost more than their text suggests at run time. */
export function hasComprehension(root: AnyNode | undefined): boolean {
  if (!root) return false;
  if (root.exprKind.case === "comprehensionExpr") return true;
  return children(root).some(hasComprehension);
}

function est(node: AnyNode, model: CostModel, scope: Scope | undefined): Est {
  const k = node.exprKind;
  switch (k.case) {
    case "constExpr": {
      const c = k.value.constantKind as { case: string; value: unknown };
      if (c.case === "stringValue") return { cost: 1, shape: { n: 0, chars: (c.value as string).length } };
      if (c.case === "bytesValue") return { cost: 1, shape: { n: 0, chars: (c.value as Uint8Array).length } };
      return { cost: 1, shape: SCALAR };
    }
    case "identExpr": {
      const name = k.value.name as string;
      for (let s = scope; s; s = s.parent) if (s.name === name) return { cost: 1, shape: s.shape };
      if (name === model.variable) return { cost: 1, shape: objectShape(model) };
      return { cost: 1, shape: SCALAR };
    }
    case "selectExpr": {
      if (k.value.testOnly) return add(1, [est(k.value.operand, model, scope)], SCALAR);
      if (isVariable(k.value.operand, model, scope)) return { cost: 1, shape: model.attribute(k.value.field as string) };
      const o = est(k.value.operand, model, scope);
      return add(1, [o], o.shape.elem ?? o.shape);
    }
    case "listExpr": {
      const elements = ((k.value.elements as AnyNode[]) ?? []).map((e) => est(e, model, scope));
      // An empty list still has an element shape: that is what tells it from a string.
      return add(1, elements, { n: elements.length, chars: 0, elem: unionAll(elements.map((e) => e.shape)) ?? NOTHING });
    }
    case "structExpr": {
      const parts: Est[] = [];
      for (const entry of (k.value.entries as Array<{ keyKind?: { case?: string; value?: unknown }; value?: AnyNode }>) ?? []) {
        if (entry.keyKind?.case === "mapKey") parts.push(est(entry.keyKind.value as AnyNode, model, scope));
        if (entry.value) parts.push(est(entry.value, model, scope));
      }
      return add(1, parts, { n: parts.length, chars: 0, elem: unionAll(parts.map((p) => p.shape)) ?? NOTHING });
    }
    case "comprehensionExpr":
      return comprehension(k.value, model, scope);
    case "callExpr":
      return call(node, model, scope);
    default:
      return { cost: 1, shape: SCALAR };
  }
}

function comprehension(c: any, model: CostModel, scope: Scope | undefined): Est {
  const range = est(c.iterRange, model, scope);
  const init = est(c.accuInit, model, scope);
  const n = range.shape.n;
  const item = range.shape.elem ?? SCALAR;
  let inner: Scope = { name: c.accuVar, shape: init.shape, parent: scope };
  inner = { name: c.iterVar, shape: item, parent: inner };
  if (c.iterVar2) inner = { name: c.iterVar2, shape: item, parent: inner };
  const cond = c.loopCondition ? est(c.loopCondition, model, inner) : { cost: 0, shape: SCALAR };
  const step = est(c.loopStep, model, inner);
  // map/filter append to the accumulator: whatever one step adds, N steps add N times.
  const grown: Shape = {
    n: sat(init.shape.n + mul(n, Math.max(0, step.shape.n - init.shape.n))),
    chars: sat(init.shape.chars + mul(n, Math.max(0, step.shape.chars - init.shape.chars))),
    elem: union(init.shape.elem, step.shape.elem),
  };
  const result = est(c.result, model, { name: c.accuVar, shape: grown, parent: scope });
  const loop = mul(n, cond.cost + step.cost);
  const cost = sat(1 + range.cost + init.cost + loop + result.cost);
  const body = hottest([cond.hot, step.hot]);
  const own: Hot = { cost, loops: [{ range: c.iterRange, n }, ...(body?.loops ?? [])] };
  return { cost, shape: result.shape, hot: hottest([own, range.hot, init.hot, result.hot]) };
}

function call(node: AnyNode, model: CostModel, scope: Scope | undefined): Est {
  const v = node.exprKind.value as { function: string; target?: AnyNode; args?: AnyNode[] };
  const target = v.target ? est(v.target, model, scope) : undefined;
  const args = (v.args ?? []).map((a) => est(a, model, scope));
  const all = target ? [target, ...args] : args;
  // The receiver of a method, or the first argument of a function: the value operated on.
  const subject = (target ?? args[0])?.shape ?? SCALAR;
  const arg = (i: number) => (target ? args[i] : args[i + 1])?.shape ?? NOTHING;
  const fn = v.function;
  const result = (extra: number, shape: Shape): Est => {
    const e = add(1 + extra, all, shape);
    // A single call that alone takes most of the cost is worth naming (join, replace on huge strings).
    if (extra > 1000 && extra >= (e.hot?.cost ?? 0)) e.hot = { cost: extra, call: { fn, on: v.target ?? v.args?.[0] } };
    return e;
  };
  switch (fn) {
    case "_?_:_": {
      const [c, t, f] = args;
      return { cost: sat(1 + c.cost + Math.max(t.cost, f.cost)), shape: union(t.shape, f.shape), hot: hottest([c.hot, t.hot, f.hot]) };
    }
    case "_+_": {
      // Building is O(1) for both strings (V8 ropes) and lists (concatenated views): the cost is
      // paid by whoever later reads the result, and that is charged there.
      return result(0, concatenation(all[0].shape, all[1].shape));
    }
    case "_==_":
    case "_!=_":
      return result(Math.min(scan(all[0].shape), scan(all[1].shape)), SCALAR);
    case "@in":
      return result(mul(all[1].shape.n, 1 + Math.min(scan(all[0].shape), scan(all[1].shape.elem ?? SCALAR))), SCALAR);
    case "_[_]":
    case "_[?_]": {
      // Indexing the object by a constant name reads that attribute; by a computed one, any.
      const [operand, key] = v.args ?? [];
      if (isVariable(operand, model, scope)) {
        const c = key?.exprKind.case === "constExpr" ? key.exprKind.value.constantKind : undefined;
        return result(0, model.attribute(c?.case === "stringValue" ? (c.value as string) : undefined));
      }
      return result(0, all[0].shape.elem ?? SCALAR);
    }
    case "size":
    case "contains":
    case "indexOf":
    case "lastIndexOf":
    case "charAt":
      return result(strCost(subject.chars), fn === "charAt" ? { n: 0, chars: 1 } : SCALAR);
    case "startsWith":
    case "endsWith":
      return result(strCost(arg(0).chars), SCALAR);
    case "matches":
      // RE2 runs in time linear in the input, times the pattern's size.
      return result(strCost(mul(subject.chars, Math.max(1, arg(0).chars))), SCALAR);
    case "lowerAscii":
    case "upperAscii":
    case "trim":
    case "substring":
      return result(strCost(subject.chars), { n: 0, chars: subject.chars });
    case "escapeDNComponent":
    case "strings.quote":
      return result(strCost(3 * subject.chars), { n: 0, chars: sat(3 * subject.chars + 2) });
    case "split":
      return result(strCost(subject.chars), { n: sat(subject.chars + 1), chars: 0, elem: { n: 0, chars: subject.chars } });
    case "join": {
      const chars = mul(subject.n, (subject.elem?.chars ?? 0) + arg(0).chars);
      return result(strCost(chars), { n: 0, chars });
    }
    case "replace": {
      // The library rebuilds the whole string once per replacement: quadratic in the worst case.
      const count = subject.chars + 1;
      const chars = sat(subject.chars + mul(count, arg(1).chars));
      return result(strCost(mul(count, chars)), { n: 0, chars });
    }
    case "format": {
      const chars = sat(subject.chars + text(arg(0)));
      return result(strCost(chars), { n: 0, chars });
    }
    case "string":
      return result(strCost(subject.chars), { n: 0, chars: Math.max(subject.chars, SCALAR.chars) });
    case "dyn":
      return result(0, subject);
    default:
      // Arithmetic, comparisons, conversions, timestamps: constant work, a scalar result.
      return result(0, SCALAR);
  }
}

/**
 * `l + r`. An attribute's shape is either a list or a string; CEL adds only like to like, so when
 * one side is surely a string (or surely a list) the other is too: `"cn=" + source.x` is a
 * string, never a list of every value.
 */
function concatenation(l: Shape, r: Shape): Shape {
  const string = (s: Shape) => s.n === 0 && !s.elem;
  const list = (s: Shape) => s.chars === 0 && (s.n > 0 || !!s.elem);
  if (string(l) || string(r)) return { n: 0, chars: sat(l.chars + r.chars) };
  if (list(l) || list(r)) return { n: sat(l.n + r.n), chars: 0, elem: union(l.elem, r.elem) };
  return { n: sat(l.n + r.n), chars: sat(l.chars + r.chars), elem: union(l.elem, r.elem) };
}

function objectShape(model: CostModel): Shape {
  return { n: model.attributeCount, chars: 0, elem: model.attribute(undefined) };
}

/** True for the expression's own variable (not a comprehension variable of the same name). */
function isVariable(node: AnyNode | undefined, model: CostModel, scope: Scope | undefined): boolean {
  if (node?.exprKind.case !== "identExpr" || node.exprKind.value.name !== model.variable) return false;
  for (let s = scope; s; s = s.parent) if (s.name === model.variable) return false;
  return true;
}

function add(own: number, parts: Est[], shape: Shape): Est {
  let cost = own;
  for (const p of parts) cost += p.cost;
  return { cost: sat(cost), shape, hot: hottest(parts.map((p) => p.hot)) };
}

function hottest(hots: Array<Hot | undefined>): Hot | undefined {
  let best: Hot | undefined;
  for (const h of hots) if (h && (!best || h.cost > best.cost)) best = h;
  return best;
}

/** Work to walk a value: one unit per element, CHAR_COST per character. */
function scan(s: Shape): number {
  return s.n > 0 ? mul(s.n, 1 + scan(s.elem ?? SCALAR)) : strCost(s.chars);
}

/** Values in the attribute value a result flattens into. */
function values(s: Shape): number {
  return s.n > 0 ? mul(s.n, s.elem && s.elem.n > 0 ? values(s.elem) : 1) : 1;
}

/** Characters of a value's printed form (format's %s). */
function text(s: Shape): number {
  return s.n > 0 ? mul(s.n, 2 + text(s.elem ?? SCALAR)) : s.chars;
}

function strCost(chars: number): number {
  return sat(Math.ceil(chars * CHAR_COST));
}

function union(a: Shape, b: Shape): Shape;
function union(a: Shape | undefined, b: Shape | undefined): Shape | undefined;
function union(a: Shape | undefined, b: Shape | undefined): Shape | undefined {
  if (!a) return b;
  if (!b) return a;
  return { n: Math.max(a.n, b.n), chars: Math.max(a.chars, b.chars), elem: union(a.elem, b.elem) };
}

function unionAll(shapes: Shape[]): Shape | undefined {
  return shapes.reduce<Shape | undefined>((acc, s) => union(acc, s), undefined);
}

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : sat(a * b);
}

function sat(x: number): number {
  return Number.isNaN(x) ? CAP : Math.min(x, CAP);
}

export function formatCost(n: number): string {
  return n >= CAP ? `more than ${CAP.toExponential()}` : Math.round(n).toLocaleString("en-US");
}

function describeHot(h: Hot): string {
  if (h.call) return `${h.call.fn}() on ${describe(h.call.on)}`;
  const ranges = (h.loops ?? []).map((l) => `${describe(l.range)} (${formatCost(l.n)} values)`);
  return ranges.length === 1 ? `a comprehension over ${ranges[0]}` : `nested comprehensions over ${ranges.join(" × ")}`;
}

/** A short name for the value an expression node computes, for messages. */
function describe(node: AnyNode | undefined): string {
  if (!node) return "a value";
  const k = node.exprKind;
  switch (k.case) {
    case "identExpr":
      return k.value.name;
    case "selectExpr":
      return `${describe(k.value.operand)}.${k.value.field}`;
    case "listExpr":
      return `a list literal`;
    case "callExpr":
      return k.value.target ? `${describe(k.value.target)}.${k.value.function}()` : `${k.value.function}()`;
    case "comprehensionExpr":
      return `the list built over ${describe(k.value.iterRange)}`;
    default:
      return "a value";
  }
}

function children(node: AnyNode): AnyNode[] {
  const k = node.exprKind;
  const v = k.value;
  switch (k.case) {
    case "selectExpr":
      return v.operand ? [v.operand] : [];
    case "callExpr":
      return [...(v.target ? [v.target] : []), ...(v.args ?? [])];
    case "listExpr":
      return v.elements ?? [];
    case "structExpr":
      return (v.entries ?? []).flatMap((e: any) => [...(e.keyKind?.case === "mapKey" ? [e.keyKind.value] : []), ...(e.value ? [e.value] : [])]);
    case "comprehensionExpr":
      return [v.iterRange, v.accuInit, v.loopCondition, v.loopStep, v.result].filter(Boolean);
    default:
      return [];
  }
}
