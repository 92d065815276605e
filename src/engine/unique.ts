// Unique values for outbound flows declared `unique: true` (MIM's and midPoint's iteration): an
// account name such as sAMAccountName that no two objects of one MA and object type may share.
//
// The flow's expression may read `iteration` (1, 2, ...). For each target object the first value
// no OTHER object holds is taken; "holds" means has it (imported) or is about to receive it (a
// pending export), or was given it earlier in this batch; values compare case-insensitively (AD's
// sAMAccountName is). Two rules keep accounts stable:
//   - a value the object already has (or is about to receive) is kept while it is still one of the
//     expression's values at SOME iteration and no other object holds it: when jsmith leaves,
//     jsmith2 stays jsmith2; only a change of the inputs (Smith → Jones) chooses anew;
//   - objects that keep their value are settled before any object chooses, and objects choose in
//     metaverse-id order: the result does not depend on the order the batch was read in.
// Pure apart from the holder lookup, which is passed in: one query per round for the whole batch.
import type { AttrValue, Attributes } from "../expr/index.ts";
import { guard } from "./export-flow.ts";
import { ObjectRuleError } from "./inbound.ts";
import { ITERATION, type CompiledOutboundFlow } from "./rules.ts";
import { normalizeValue } from "./values.ts";

/** The most tries per object; beyond, the object gets an error (and the run goes on). */
export const MAX_ITERATIONS = 100;
/** Iterations tried per lookup round: most objects need the first round only. */
const ROUNDS: ReadonlyArray<readonly [number, number]> = [[1, 4], [5, 20], [21, MAX_ITERATIONS]];

export interface UniqueRequest {
  mvId: number;
  /** The target object's connector-space id, when it exists: its own values are not "taken". */
  csId?: number;
  ma: string;
  objectType: string;
  attribute: string;
  rule: string;
  flow: CompiledOutboundFlow;
  attrs: Attributes;
  /** What the object is about to receive, then what it has: the values it may keep. */
  current: AttrValue[];
}

export type UniqueOutcome = { value: AttrValue } | { error: ObjectRuleError };

/** For one (MA, type, attribute): each candidate value → the connector-space ids holding it. */
export type HolderLookup = (ma: string, objectType: string, attribute: string, values: string[]) => Promise<Map<string, number[]>>;

const fold = (v: string) => v.toLowerCase();
const groupOf = (r: Pick<UniqueRequest, "ma" | "objectType" | "attribute">) => `${r.ma}\u0000${r.objectType}\u0000${r.attribute}`;

/** Values given out in this batch (not written yet, so no lookup sees them): per group, value → mv id. */
export class UniqueClaims {
  private readonly byGroup = new Map<string, { objectKey: string; values: Map<string, number> }>();
  claim(r: UniqueRequest, value: string): void {
    let g = this.byGroup.get(groupOf(r));
    if (!g) this.byGroup.set(groupOf(r), (g = { objectKey: `${r.ma}\u0000${r.objectType}`, values: new Map() }));
    g.values.set(fold(value), r.mvId);
  }
  takenByOther(r: UniqueRequest, value: string): boolean {
    const holder = this.byGroup.get(groupOf(r))?.values.get(fold(value));
    return holder !== undefined && holder !== r.mvId;
  }
  /** Forgets what these MV objects were given in these MAs and types (they are decided again). */
  release(targets: ReadonlyArray<{ mvId: number; ma: string; targetType: string }>): void {
    const gone = new Set(targets.map((t) => `${t.ma}\u0000${t.targetType}\u0000${t.mvId}`));
    for (const g of this.byGroup.values()) {
      for (const [v, id] of g.values) if (gone.has(`${g.objectKey}\u0000${id}`)) g.values.delete(v);
    }
  }
}

/** The expression's value at one iteration: a single string, or null for no value. */
function candidate(r: UniqueRequest, iteration: number): string | null {
  const v = normalizeValue(guard(`flow ${r.rule} → ${r.attribute} (iteration ${iteration})`, () => r.flow.expr.evaluate(r.attrs, { [ITERATION]: iteration })));
  if (v === null) return null;
  if (Array.isArray(v)) throw new ObjectRuleError("unique-value-invalid", `${where(r)}: a unique value must be a single value, not a list`);
  return String(v);
}

function where(r: UniqueRequest): string {
  return `${r.ma}/${r.objectType}.${r.attribute} (rule ${r.rule})`;
}

function iterates(r: UniqueRequest): boolean {
  return r.flow.expr.uses.includes(ITERATION);
}

/**
 * Decides the value of every request (one per object and unique attribute). `claims` carries what
 * earlier calls of the same batch gave out. Errors are per object, never thrown for one object.
 */
export async function resolveUnique(requests: UniqueRequest[], lookup: HolderLookup, claims = new UniqueClaims()): Promise<Map<UniqueRequest, UniqueOutcome>> {
  const out = new Map<UniqueRequest, UniqueOutcome>();
  const ordered = [...requests].sort((a, b) => a.mvId - b.mvId || a.attribute.localeCompare(b.attribute));
  const fail = (r: UniqueRequest, e: unknown) => {
    if (!(e instanceof ObjectRuleError)) throw e;
    out.set(r, { error: e });
  };
  const free = (r: UniqueRequest, value: string, holders: Map<string, number[]>) =>
    !claims.takenByOther(r, value) && !(holders.get(value) ?? []).some((id) => id !== r.csId);

  // 1. Keep: a value the object has that the expression still gives at some iteration.
  const keep: Array<{ r: UniqueRequest; options: Array<{ have: string; value: string }> }> = [];
  for (const r of ordered) {
    try {
      const options = keepOptions(r);
      if (options.length > 0) keep.push({ r, options });
    } catch (e) {
      fail(r, e);
    }
  }
  const kept = await lookupAll(lookup, keep.flatMap(({ r, options }) => options.map((o) => ({ r, value: o.have }))));
  for (const { r, options } of keep) {
    const ok = options.find((o) => free(r, o.have, kept.get(groupOf(r))!));
    if (!ok) continue;
    out.set(r, { value: ok.value });
    claims.claim(r, ok.value);
  }

  // 2. Choose: the first free candidate, in rounds of iterations, objects in metaverse-id order.
  let pending = ordered.filter((r) => !out.has(r));
  const last = new Map<UniqueRequest, string>();
  for (const [from, to] of ROUNDS) {
    if (pending.length === 0) break;
    const tries = new Map<UniqueRequest, string[]>();
    for (const r of pending) {
      try {
        const list: string[] = [];
        for (let i = from; i <= (iterates(r) ? to : 1); i++) {
          const c = candidate(r, i);
          if (c === null) break;
          list.push(c);
        }
        if (from === 1 && list.length === 0) out.set(r, { value: null }); // no value: nothing to keep unique
        else tries.set(r, list);
      } catch (e) {
        fail(r, e);
      }
    }
    const held = await lookupAll(lookup, [...tries].flatMap(([r, list]) => list.map((value) => ({ r, value }))));
    const next: UniqueRequest[] = [];
    for (const r of pending) {
      const list = tries.get(r);
      if (!list) continue;
      const value = list.find((c) => free(r, c, held.get(groupOf(r))!));
      if (value !== undefined) {
        out.set(r, { value });
        claims.claim(r, value);
        continue;
      }
      if (list.length > 0) last.set(r, list[list.length - 1]);
      if (!iterates(r)) {
        out.set(r, { error: new ObjectRuleError("unique-value-taken", `${where(r)}: '${last.get(r)}' is held by another object, and the expression does not use iteration to try another`) });
      } else if (to >= MAX_ITERATIONS || list.length < to - from + 1) {
        out.set(r, { error: exhausted(r, last.get(r)) });
      } else next.push(r);
    }
    pending = next;
  }
  return out;
}

/** Values the object has, each with the expression's own spelling of it (case may differ). */
function keepOptions(r: UniqueRequest): Array<{ have: string; value: string }> {
  const have = [...new Set(r.current.flatMap((v) => (v === null || v === undefined || Array.isArray(v) ? [] : [String(v)])))];
  if (have.length === 0) return [];
  const wanted = new Map(have.map((h) => [fold(h), h]));
  const options: Array<{ have: string; value: string }> = [];
  // Evaluated lazily: an object that keeps iteration 1 costs one evaluation.
  for (let i = 1; i <= (iterates(r) ? MAX_ITERATIONS : 1) && wanted.size > 0; i++) {
    const c = candidate(r, i);
    if (c === null) break;
    const h = wanted.get(fold(c));
    if (h === undefined) continue;
    options.push({ have: h, value: c });
    wanted.delete(fold(c));
  }
  // In the order the object holds them: what it is about to receive first.
  return options.sort((a, b) => have.indexOf(a.have) - have.indexOf(b.have));
}

function exhausted(r: UniqueRequest, last: string | undefined): ObjectRuleError {
  return new ObjectRuleError(
    "unique-value-exhausted",
    `${where(r)}: no value that no other object holds within ${MAX_ITERATIONS} iterations${last === undefined ? "" : `; the last candidate was '${last}'`}`,
  );
}

/** One lookup per (MA, type, attribute) group; the answer per group, every group present. */
async function lookupAll(lookup: HolderLookup, asks: Array<{ r: UniqueRequest; value: string }>): Promise<Map<string, Map<string, number[]>>> {
  const groups = new Map<string, { r: UniqueRequest; values: Set<string> }>();
  for (const { r, value } of asks) {
    const g = groups.get(groupOf(r)) ?? { r, values: new Set<string>() };
    g.values.add(value);
    groups.set(groupOf(r), g);
  }
  const out = new Map<string, Map<string, number[]>>();
  for (const [key, g] of groups) out.set(key, await lookup(g.r.ma, g.r.objectType, g.r.attribute, [...g.values]));
  return out;
}
