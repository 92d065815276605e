// `idsync plan` through the real CLI against a PostgreSQL engine database: exit 0 without changes,
// 2 with changes (0 with --exit-zero), 1 for an invalid configuration; -o markdown is a PR comment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { salesLeaveAndDisplayNameChanges, idsync, syncedQuickstart } from "./helpers.ts";

test("plan exit codes and formats", async () => {
  const s = await syncedQuickstart();
  try {
    const none = await idsync(["--database", s.url, "plan", "-f", s.dir]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /Summary: no changes \(exit code 0: no changes\)/);

    s.edit("rules.yaml", salesLeaveAndDisplayNameChanges);
    const md = await idsync(["--database", s.url, "-o", "markdown", "plan", "-f", s.dir, "--redact", "--samples", "2"]);
    assert.equal(md.code, 2, md.stderr);
    assert.match(md.stdout, /^### idsync plan: 1 configuration change, \d+ object changes, \d+ deletes\n/);
    assert.match(md.stdout, /Sample updates \(2 of \d+\):\n\n- `E\d+`: `displayName` `\[redacted\]` → `\[redacted\]`/);
    assert.doesNotMatch(md.stdout, /Ben Andersson/, "no personal values with --redact");

    const zero = await idsync(["--database", s.url, "-o", "json", "plan", "-f", s.dir, "--exit-zero"]);
    assert.equal(zero.code, 0, zero.stderr);
    assert.equal(JSON.parse(zero.stdout).summary.changes, true);

    s.edit("rules.yaml", (t) => t.replace("{target: sn, expression: source.sn}", "{target: sn, expression: source.surname}"));
    const bad = await idsync(["--database", s.url, "plan", "-f", s.dir, "--exit-zero"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /1 configuration error\(s\):\n .*rules\.yaml:\d+:\d+: SyncRule\/hr-person-inbound .*surname/);
  } finally {
    await s.close();
  }
});
