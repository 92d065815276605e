// Run-time bounds: an expression that passed validation is re-estimated with the object's real
// values before it runs, and a meter stops any evaluation that builds too much. Both raise a
// CostLimitError (code "expression-cost-exceeded"), never a hang or an exhausted heap.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression, CostLimitError, EvaluationError } from "../../src/expr/index.ts";

const source = { variable: "source" as const };
const values = (n: number, prefix = "cn=user") => Array.from({ length: n }, (_, i) => `${prefix}${i},ou=people,dc=example,dc=org`);

function isCostLimit(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof CostLimitError, String(e));
    assert.ok(e instanceof EvaluationError);
    assert.equal(e.code, "expression-cost-exceeded");
    assert.match(e.message, pattern);
    return true;
  };
}

test("an object whose real values make a validated expression too expensive is refused before it runs", () => {
  const text = 'source.groups.exists(g, ["admins", "operators", "security", "auditors"].exists(r, g.endsWith(r)))';
  const expr = compileExpression(text, source); // passes validation: 10,000 assumed values
  assert.equal(expr.evaluate({ groups: ["cn=admins", "cn=staff"] }), true);
  const started = Date.now();
  assert.throws(
    () => expr.evaluate({ groups: values(400_000) }),
    isCostLimit(/cost limit: '.*source\.groups\.exists.*' would cost an estimated [\d,]+ with this object's values, over the run-time budget of 10,000,000 \(the cost is in nested comprehensions over source\.groups \(400,000 values\)/),
  );
  assert.ok(Date.now() - started < 2000, "refused up front, not after running");
});

test("a filter over a large group's members runs (no stack overflow on the list it builds)", () => {
  const expr = compileExpression('source.members.filter(m, m.startsWith("cn="))', source);
  for (const n of [10_000, 100_000]) {
    const result = expr.evaluate({ members: values(n) });
    assert.ok(Array.isArray(result));
    assert.equal(result.length, n);
    assert.equal(result[n - 1], `cn=user${n - 1},ou=people,dc=example,dc=org`);
  }
  const chained = compileExpression('source.members.filter(m, m.endsWith("org")).map(m, m.split(",")[0]).exists(x, x == "cn=user49999")', source);
  assert.equal(chained.evaluate({ members: values(50_000) }), true);
});

test("list concatenation keeps order and values", () => {
  const expr = compileExpression('[1, 2] + [3] + [] + [4, 5, 6] + [7] + source.x + ["z"]', source);
  assert.deepEqual(expr.evaluate({ x: ["a", "b"] }), ["1", "2", "3", "4", "5", "6", "7", "a", "b", "z"]);
  const built = compileExpression("source.x.map(v, v + v).filter(v, v != \"bb\")", source);
  assert.deepEqual(built.evaluate({ x: ["a", "b", "c", "d", "e"] }), ["aa", "cc", "dd", "ee"]);
});

test("lowerAscii and upperAscii change only ASCII letters", () => {
  assert.equal(compileExpression("source.x.lowerAscii()", source).evaluate({ x: "ÄbC-Ω-XyZ" }), "Äbc-Ω-xyz");
  assert.equal(compileExpression("source.x.upperAscii()", source).evaluate({ x: "äBc-ω-xYz" }), "äBC-ω-XYZ");
});

test("an evaluation that builds too much is stopped by the meter, even when the error is swallowed", () => {
  // Static estimate assumes 256-character values; this one is 30,000, mapped over 1,000 values.
  const expr = compileExpression("source.members.map(m, source.prefix + m)", source);
  assert.throws(() => expr.evaluate({ members: values(1000), prefix: "p".repeat(30_000) }), isCostLimit(/stopped after building more than 20,000,000 characters and list elements \(a string concatenation/));
  const swallowed = compileExpression('source.members.map(m, source.prefix + m).size() > 0 || true', source);
  assert.throws(() => swallowed.evaluate({ members: values(1000), prefix: "p".repeat(30_000) }), CostLimitError);
  // The meter starts afresh for the next evaluation.
  assert.deepEqual(expr.evaluate({ members: ["a"], prefix: "p" }), ["pa"]);
});

test("replace that would rebuild a long string many times is stopped before it runs", () => {
  const expr = compileExpression('source.x.replace("a", "bb")', source);
  assert.equal(expr.evaluate({ x: "banana" }), "bbbnbbnbb");
  assert.throws(() => expr.evaluate({ x: "a".repeat(100_000) }), isCostLimit(/replace\(\)/));
});

test("expressions without comprehensions skip the run-time estimate and evaluate as before", () => {
  const expr = compileExpression('source.givenName + " " + source.sn', source);
  assert.equal(expr.evaluate({ givenName: "Ann", sn: "Lee" }), "Ann Lee");
  assert.equal(expr.evaluate({ givenName: "Ann" }), null);
});
