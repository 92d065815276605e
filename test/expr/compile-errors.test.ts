// Compile-time checks: unknown attributes, wrong variables and syntax errors are config errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression, ExpressionError } from "../../src/expr/index.ts";

const scope = { variable: "source" as const, attributes: new Set(["givenName"]) };

test("an undeclared attribute is reported with the declared ones", () => {
  assert.throws(() => compileExpression("source.givenNmae", scope), (e: unknown) => e instanceof ExpressionError && /no attribute 'givenNmae'.*givenName/.test(e.message));
});

test("reading another variable is reported", () => {
  assert.throws(() => compileExpression("mv.givenName", scope), (e: unknown) => e instanceof ExpressionError && /unknown variable 'mv'/.test(e.message));
});

test("comprehension variables are not unknown variables", () => {
  assert.doesNotThrow(() => compileExpression('["a"].exists(x, x == source.givenName)', scope));
});

test("a syntax error is reported", () => {
  assert.throws(() => compileExpression("source.givenName +", scope), (e: unknown) => e instanceof ExpressionError && /does not parse/.test(e.message));
  assert.throws(() => compileExpression("  ", scope), ExpressionError);
});
