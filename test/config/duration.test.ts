import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDuration } from "../../src/config/index.ts";

test("durations parse to milliseconds, compounds included", () => {
  assert.equal(parseDuration("15m"), 15 * 60_000);
  assert.equal(parseDuration("12h"), 12 * 3_600_000);
  assert.equal(parseDuration("30d"), 30 * 86_400_000);
  assert.equal(parseDuration("2w"), 14 * 86_400_000);
  assert.equal(parseDuration("1h30m"), 90 * 60_000);
  assert.equal(parseDuration("45s"), 45_000);
});

test("anything else is rejected", () => {
  for (const bad of ["", "30", "d", "30 d", "1.5h", "-1d", "30D", "1y", "3mo", "99999999999999999w"]) {
    assert.throws(() => parseDuration(bad), Error, bad);
  }
});
