// The hard stop of CEL evaluation, and the functions that enforce it.
//
// The run-time estimate (evaluate in index.ts) refuses what would be too expensive before it
// starts; this is the stop behind it, for whatever the estimate misjudged. Every function that
// builds a string or a list charges what it builds to a per-evaluation meter, and the evaluation
// stops once WORK_LIMIT is used, however the expression got there. Evaluation is synchronous and
// never nested, so one meter suffices.
import { celFunc, celList, celListConcat, celMethod, CelScalar, isCelError, isCelList, listType, type CelFunc, type CelList, type CelValue } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { formatCost } from "./cost.ts";
import { escapeDNComponent } from "./dn.ts";

/** Characters and list elements one evaluation may build (~40 MB at most). */
export const WORK_LIMIT = 20_000_000;
const meter = { used: 0, exceeded: undefined as string | undefined };

/** Starts a new evaluation's meter. */
export function resetLimits(): void {
  meter.used = 0;
  meter.exceeded = undefined;
}

/** What exceeded the limit during the current evaluation, if anything did. */
export function limitExceeded(): string | undefined {
  return meter.exceeded;
}

/** Charges work to the meter; true when the evaluation must stop (the caller then calls stop). */
function over(units: number): boolean {
  meter.used += units;
  return meter.used > WORK_LIMIT;
}

function stop(what: string): never {
  meter.exceeded ??= what;
  // CEL turns this into an error value; evaluate() reports meter.exceeded even when the
  // expression swallows the error (`true || ...`).
  throw new Error(`evaluation limit of ${formatCost(WORK_LIMIT)} characters and list elements built, exceeded by ${what}`);
}

/** The size of what a function built: characters of a string, elements of a list. */
function built(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (isCelList(v)) return v.size;
  return 0;
}

/** The same function, charging what it builds to the meter (and, with `before`, what it is about to build). */
function metered(f: CelFunc, before?: (target: CelValue, args: CelValue[]) => number): CelFunc {
  const impl = function (this: CelValue, ...args: CelValue[]) {
    if (before && over(before(this, args))) stop(`${f.name}()`);
    const r = f.call(0, f.target ? this : undefined, args);
    if (r === undefined) throw new Error(`${f.id}: no matching overload`);
    if (isCelError(r)) throw r;
    if (over(built(r))) stop(`${f.name}() building ${formatCost(built(r))}`);
    return r;
  } as any;
  return f.target ? celMethod(f.name, f.target, f.arguments as any, f.result, impl) : celFunc(f.name, f.arguments as any, f.result, impl);
}

function builds(f: CelFunc): boolean {
  return f.result === CelScalar.STRING || f.name === "split";
}

/** replace() rebuilds the string once per occurrence: charge that before it runs, not after. */
function replaceWork(target: CelValue, args: CelValue[]): number {
  const s = String(target);
  const [old, repl] = [String(args[0]), String(args[1])];
  const limit = args[2] === undefined ? s.length : Number(args[2]);
  let count = 0;
  if (old === "") count = Math.max(0, limit);
  else for (let i = s.indexOf(old); i !== -1 && count < limit; i = s.indexOf(old, i + old.length)) count++;
  return count * (s.length + count * Math.max(0, repl.length - old.length));
}

/** join() builds all of its values and separators: charge that before it runs. */
function joinWork(target: CelValue, args: CelValue[]): number {
  const list = target as CelList;
  const sep = args[0] === undefined ? 0 : String(args[0]).length;
  let chars = Math.max(0, list.size - 1) * sep;
  for (const v of list) chars += typeof v === "string" ? v.length : 0;
  return chars;
}

/** The flat parts of a list built by concatLists (a property, not a WeakMap: cheaper for the GC). */
const PARTS = Symbol("parts");
type Built = CelList & { [PARTS]?: readonly CelList[] };

/**
 * List concatenation. The library nests one concatenated view per `+`, and map/filter append one
 * element at a time, so a filter over 10,000 values built a view 10,000 deep whose reading
 * overflowed the stack. Here a list is a flat run of parts merged like a binary counter (a part
 * is merged when the next is more than half its size): O(log n) parts, each element copied
 * O(log n) times.
 */
function concatLists(l: Built, r: Built): CelList {
  if (over(Math.min(l.size, r.size) + 1)) stop(`a list concatenation of ${formatCost(l.size + r.size)} elements`);
  if (r.size === 0) return l;
  if (l.size === 0) return r;
  const parts = [...(l[PARTS] ?? [l]), ...(r[PARTS] ?? [r])];
  while (parts.length > 1 && (parts.length > 64 || parts[parts.length - 1].size * 2 > parts[parts.length - 2].size)) {
    const b = parts.pop()!;
    const a = parts.pop()!;
    const merged = new Array<CelValue>(a.size + b.size);
    for (let i = 0; i < a.size; i++) merged[i] = a.get(i)!;
    for (let i = 0; i < b.size; i++) merged[a.size + i] = b.get(i)!;
    parts.push(celList(merged));
  }
  if (parts.length === 1) return parts[0];
  const out: Built = celListConcat(...parts);
  out[PARTS] = parts;
  return out;
}

const LIST = listType(CelScalar.DYN);

/** The functions of the CEL environment: the strings extension and ours, guarded. */
export const guardedFuncs: CelFunc[] = [
  // Functions that only inspect a string (contains, indexOf...) build nothing and stay as they are.
  ...strings.map((f) => (f.name === "replace" ? metered(f, replaceWork) : f.name === "join" ? metered(f, joinWork) : builds(f) ? metered(f) : f)),
  // The library lowers and uppers one character at a time (~25 ns a character, a string
  // allocated per character); identity expressions use these a lot. Same semantics, native speed.
  metered(celMethod("lowerAscii", CelScalar.STRING, [], CelScalar.STRING, function (this: string) {
    return this.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  })),
  metered(celMethod("upperAscii", CelScalar.STRING, [], CelScalar.STRING, function (this: string) {
    return this.replace(/[a-z]+/g, (m) => m.toUpperCase());
  })),
  metered(celFunc("escapeDNComponent", [CelScalar.STRING], CelScalar.STRING, (s: string) => escapeDNComponent(s))),
  // Overrides of the standard `+` (same signatures, so they replace it): charged to the meter.
  celFunc("_+_", [CelScalar.STRING, CelScalar.STRING], CelScalar.STRING, (l: string, r: string) => {
    if (over(l.length + r.length)) stop(`a string concatenation of ${formatCost(l.length + r.length)} characters`);
    return l + r;
  }),
  celFunc("_+_", [LIST, LIST], LIST, concatLists as any),
];
