// An expression that reads an absent attribute yields no value (null), not an error; has() tests presence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression, EvaluationError } from "../../src/expr/index.ts";

const source = { variable: "source" as const, attributes: new Set(["givenName", "sn", "status", "tags"]) };

test("absent attribute gives null, present ones evaluate", () => {
  const e = compileExpression('source.givenName + " " + source.sn', source);
  assert.equal(e.evaluate({ givenName: "Ann", sn: "Lee" }), "Ann Lee");
  assert.equal(e.evaluate({ givenName: "Ann" }), null);
  assert.deepEqual([...e.reads].sort(), ["givenName", "sn"]);
});

test("has() tests presence and conditions treat null as false", () => {
  assert.equal(compileExpression('has(source.sn) ? source.sn : "none"', source).evaluate({}), "none");
  const scope = compileExpression('source.status in ["active", "leave"]', source);
  assert.equal(scope.test({ status: "leave" }), true);
  assert.equal(scope.test({}), false);
});

test("lists and string functions", () => {
  assert.deepEqual(compileExpression('source.tags.filter(t, t != "x")', source).evaluate({ tags: ["a", "x", "b"] }), ["a", "b"]);
  assert.equal(compileExpression("source.sn.lowerAscii()", source).evaluate({ sn: "LEE" }), "lee");
});

test("a real type error is an EvaluationError, not a silent null", () => {
  const e = compileExpression("source.sn + 1", source);
  assert.throws(() => e.evaluate({ sn: "x" }), EvaluationError);
});

test("plain attribute copies are recognised (reference flows)", () => {
  assert.equal(compileExpression("source.sn", source).plainAttribute, "sn");
  assert.equal(compileExpression("source.sn.lowerAscii()", source).plainAttribute, undefined);
});
