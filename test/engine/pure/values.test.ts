import { test } from "node:test";
import assert from "node:assert/strict";
import { changedAttributes, compactAttributes, normalizeValue, valuesEqual } from "../../../src/engine/values.ts";

test("empty string, empty list and null are all no value", () => {
  assert.equal(normalizeValue(""), null);
  assert.equal(normalizeValue([]), null);
  assert.equal(normalizeValue(undefined), null);
  assert.ok(valuesEqual("", null));
});

test("multi-valued attributes compare as sets", () => {
  assert.ok(valuesEqual(["b", "a"], ["a", "b", "a"]));
  assert.ok(!valuesEqual(["a"], ["a", "b"]));
  assert.ok(valuesEqual(["x"], "x"));
});

test("numbers and strings compare by their text", () => {
  assert.ok(valuesEqual(42, "42"));
});

test("changed attributes and compaction", () => {
  assert.deepEqual(changedAttributes({ a: "1", b: "x" }, { a: "1", c: "y" }), ["b", "c"]);
  assert.deepEqual(compactAttributes({ b: "", a: "1", c: [] }), { a: "1" });
});

test("canonical JSON sorts keys at every level and matches JSON for scalars", async () => {
  const { canonical } = await import("../../../src/engine/inbound.ts");
  assert.equal(canonical({ b: 1, a: { d: [2, "x"], c: null } }), '{"a":{"c":null,"d":[2,"x"]},"b":1}');
  assert.equal(canonical({ a: undefined, b: 'q"' }), JSON.stringify({ b: 'q"' }));
  assert.equal(canonical("é"), JSON.stringify("é"));
  assert.deepEqual(JSON.parse(canonical({ z: [1, { y: true }] })), { z: [1, { y: true }] });
});
