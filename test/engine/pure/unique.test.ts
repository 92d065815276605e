// The unique-value decision (engine/unique.ts) with the holder lookup faked: keepers before
// choosers, metaverse-id order whatever the input order, case-insensitive holders, a lookup per
// round and not per object.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression } from "../../../src/expr/index.ts";
import { MAX_ITERATIONS, resolveUnique, UniqueClaims, type HolderLookup, type UniqueOutcome, type UniqueRequest } from "../../../src/engine/unique.ts";
import type { CompiledOutboundFlow } from "../../../src/engine/rules.ts";

const flow = (expression: string): CompiledOutboundFlow => ({
  target: "sAMAccountName",
  expr: compileExpression(expression, { variable: "mv", variables: ["iteration"] }),
  initialOnly: false,
  unique: true,
});
const ITERATING = flow('mv.sn.lowerAscii() + (iteration > 1 ? string(iteration) : "")');

function request(mvId: number, sn: string, extra: Partial<UniqueRequest> = {}): UniqueRequest {
  return { mvId, ma: "ad", objectType: "user", attribute: "sAMAccountName", rule: "ad-out", flow: ITERATING, attrs: { sn }, current: [], ...extra };
}

/** Holders in the target (by cs id), case-insensitive; counts the lookups. */
function target(held: Record<string, number>): { lookup: HolderLookup; calls: number[] } {
  const calls: number[] = [];
  const byFold = new Map(Object.entries(held).map(([v, id]) => [v.toLowerCase(), id]));
  return {
    calls,
    lookup: async (_ma, _type, _attr, values) => {
      calls.push(values.length);
      const out = new Map<string, number[]>();
      for (const v of values) if (byFold.has(v.toLowerCase())) out.set(v, [byFold.get(v.toLowerCase())!]);
      return out;
    },
  };
}

const values = (m: Map<UniqueRequest, UniqueOutcome>, reqs: UniqueRequest[]) =>
  reqs.map((r) => {
    const o = m.get(r)!;
    return "value" in o ? o.value : o.error.message;
  });

test("namesakes in metaverse-id order, whatever order they come in; one lookup for all of them", async () => {
  const reqs = [request(30, "Smith"), request(10, "Smith"), request(20, "SMITH")];
  const t = target({ SMITH: 99 });
  const out = await resolveUnique(reqs, t.lookup);
  assert.deepEqual(values(out, reqs), ["smith4", "smith2", "smith3"]);
  assert.equal(t.calls.length, 1, "one round");
});

test("a value the object has is kept while it is an iteration; its own holding does not count", async () => {
  const own = request(5, "Smith", { csId: 7, current: ["Smith3"] });
  const newcomer = request(1, "Smith");
  const out = await resolveUnique([newcomer, own], target({ smith3: 7 }).lookup);
  // The keeper is settled first although the newcomer has the lower id; the case follows the expression.
  assert.deepEqual(values(out, [newcomer, own]), ["smith", "smith3"]);

  const renamed = request(5, "Jones", { csId: 7, current: ["smith3"] });
  assert.deepEqual(values(await resolveUnique([renamed], target({ smith3: 7 }).lookup), [renamed]), ["jones"]);
});

test("a value another object holds is not kept", async () => {
  const r = request(5, "Smith", { csId: 7, current: ["smith"] });
  assert.deepEqual(values(await resolveUnique([r], target({ smith: 8 }).lookup), [r]), ["smith2"]);
});

test("claims carry over between calls of one batch", async () => {
  const claims = new UniqueClaims();
  const a = request(1, "Smith");
  await resolveUnique([a], target({}).lookup, claims);
  const b = request(2, "Smith");
  assert.deepEqual(values(await resolveUnique([b], target({}).lookup, claims), [b]), ["smith2"]);
  claims.release([{ mvId: 1, ma: "ad", targetType: "user" }]);
  const c = request(3, "Smith");
  assert.deepEqual(values(await resolveUnique([c], target({}).lookup, claims), [c]), ["smith"]);
});

test("the bound, the rounds, and an expression without iteration", async () => {
  const held: Record<string, number> = { smith: 1 };
  for (let i = 2; i <= MAX_ITERATIONS; i++) held[`smith${i}`] = i;
  const t = target(held);
  const r = request(500, "Smith");
  const out = await resolveUnique([r], t.lookup);
  assert.deepEqual(values(out, [r]), [`ad/user.sAMAccountName (rule ad-out): no value that no other object holds within ${MAX_ITERATIONS} iterations; the last candidate was 'smith${MAX_ITERATIONS}'`]);
  assert.deepEqual(t.calls, [4, 16, 80], "three rounds of lookups, every iteration once");

  const plain = request(1, "Smith", { flow: flow("mv.sn.lowerAscii()") });
  assert.equal((out.get(r) as { error: { code: string } }).error.code, "unique-value-exhausted");
  const taken = await resolveUnique([plain], target({ smith: 9 }).lookup);
  assert.equal((taken.get(plain) as { error: { code: string } }).error.code, "unique-value-taken");
  const none = request(1, "", { attrs: {} });
  assert.deepEqual(values(await resolveUnique([none], target({}).lookup), [none]), [null], "no value: nothing to keep unique");
});
