// Validate-time cost estimation: an expression whose estimated cost (attributes at their assumed
// maxima) exceeds the budget is a compile error naming the cost, the budget and the costly part;
// the expressions identity rules really use stay far below it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "@bufbuild/cel";
import { compileExpression, ExpressionError, VALIDATE_COST_BUDGET } from "../../src/expr/index.ts";
import { assumedModel, estimateCost } from "../../src/expr/cost.ts";

const estimate = (text: string, variable = "source") => estimateCost(parse(text).expr as never, assumedModel(variable)).cost;
const source = { variable: "source" as const };

const REALISTIC: Array<[string, "source" | "mv"]> = [
  ['source.members.filter(m, m.startsWith("cn="))', "source"],
  ['source.givenName + " " + source.sn', "source"],
  ['"uid=" + escapeDNComponent(source.uid) + ",ou=people,dc=example,dc=org"', "source"],
  ["has(source.nickname) ? source.nickname : source.givenName", "source"],
  ['source.mail.exists(m, m.endsWith("@example.org"))', "source"],
  ["mv.proxyAddresses.map(a, a.lowerAscii())", "mv"],
  ['source.status in ["active", "leave"]', "source"],
  ['source.groups.map(g, "cn=" + g + "," + source.baseDN)', "source"],
  ['source.displayName.split(" ").map(w, w.upperAscii())', "source"],
];

test("realistic identity expressions cost far less than the budget", () => {
  for (const [text, variable] of REALISTIC) {
    const cost = estimate(text, variable);
    assert.ok(cost <= VALIDATE_COST_BUDGET / 4, `${text}: ${cost}`);
    assert.doesNotThrow(() => compileExpression(text, { variable }), text);
  }
});

test("a comprehension over an attribute costs in proportion to its assumed size", () => {
  // 10,000 assumed values, a few units each: well over a list literal's, well under the budget.
  const overAttribute = estimate('source.members.exists(m, m == "x")');
  const overLiteral = estimate('["a", "b", "c"].exists(m, m == "x")');
  assert.ok(overAttribute > 1000 * overLiteral, `${overAttribute} vs ${overLiteral}`);
  assert.ok(overAttribute < VALIDATE_COST_BUDGET);
});

test("nested comprehensions over an attribute are refused, naming cost, budget and the costly part", () => {
  const hostile = "source.members.map(a, source.members.map(b, source.members.map(c, a + b + c)))";
  assert.throws(
    () => compileExpression(hostile, source),
    (e: unknown) => {
      assert.ok(e instanceof ExpressionError);
      assert.match(e.message, /estimated cost [\d,]+ exceeds the budget of 1,000,000/);
      assert.match(e.message, /nested comprehensions over source\.members \(10,000 values\) × source\.members/);
      assert.equal(e.expression, hostile);
      return true;
    },
  );
});

test("a list literal of three elements nested three deep passes", () => {
  const text = "[1, 2, 3].all(a, [1, 2, 3].all(b, [1, 2, 3].all(c, a + b + c > 0)))";
  assert.ok(estimate(text) < 1000);
  assert.doesNotThrow(() => compileExpression(text, source));
});

test("five levels of comprehensions over an attribute are refused", () => {
  const text = "source.m.all(a, source.m.all(b, source.m.all(c, source.m.all(d, source.m.all(e, a == e)))))";
  assert.throws(() => compileExpression(text, source), (e: unknown) => e instanceof ExpressionError && /too expensive.*nested comprehensions over source\.m .*× source\.m/.test(e.message));
});

test("one comprehension over an attribute and one over a small literal passes; two attributes do not", () => {
  assert.doesNotThrow(() => compileExpression('source.groups.exists(g, ["admins", "ops"].exists(r, g.endsWith(r)))', source));
  assert.throws(() => compileExpression("source.groups.exists(g, source.members.exists(m, m == g))", source), /nested comprehensions over source\.groups .*× source\.members/);
});

test("huge lists built from small ones are seen", () => {
  // Each of 10,000 values maps to the whole list: a result of 10^8 values.
  assert.throws(() => compileExpression("source.members.map(m, source.members)", source), /too expensive.*a result of up to 100,000,000 values/);
  // A list literal of list literals iterated over the attribute in each step.
  assert.throws(() => compileExpression("[source.a, source.b, source.c].map(l, l.map(x, source.d.map(y, x + y)))", source), /too expensive/);
  // A few list literals of attributes flatten fine.
  assert.doesNotThrow(() => compileExpression("[source.a, source.b] + [source.c]", source));
});

test("string blow-ups are seen: join and replace of joined lists", () => {
  assert.throws(() => compileExpression('source.members.map(m, source.members.join(","))', source), /too expensive/);
  assert.throws(() => compileExpression('source.x.join(",").replace(",", source.y.join(","))', source), /too expensive.*replace\(\)/);
});

test("estimates saturate instead of overflowing to Infinity or NaN", () => {
  const deep = Array.from({ length: 40 }, (_, i) => `source.m.all(v${i}, `).join("") + "true" + ")".repeat(40);
  const empty = "[].all(x, " + deep + ")";
  assert.ok(Number.isFinite(estimate(deep)) && estimate(deep) > VALIDATE_COST_BUDGET);
  // Zero iterations of an enormous body cost nothing (0 × huge is 0, not NaN).
  assert.ok(estimate(empty) < 100);
  assert.throws(() => compileExpression(deep, source), /too expensive: estimated cost more than/);
});
