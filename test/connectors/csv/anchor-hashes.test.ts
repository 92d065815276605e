// The duplicate-anchor pass remembers anchors as 52-bit hashes in a compact set: it must find every
// repeat, through growth, and tell apart anchors that differ in one character.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AnchorHashSet, anchorHash } from "../../../src/connectors/csv/anchor-hashes.ts";

test("the anchor hash set finds every repeat, and only repeats", () => {
  const set = new AnchorHashSet();
  const n = 200_000; // past several doublings of the table
  for (let i = 0; i < n; i++) assert.equal(set.add(anchorHash(`E${i}`)), true);
  let repeats = 0;
  for (let i = 0; i < n; i += 997) if (!set.add(anchorHash(`E${i}`))) repeats++;
  assert.equal(repeats, Math.ceil(n / 997));
  assert.notEqual(anchorHash("E0001"), anchorHash("E0002"));
  assert.notEqual(anchorHash("ab"), anchorHash("ba"));
  assert.ok(anchorHash("") > 0, "0 is never a hash (it marks an empty slot)");
});
