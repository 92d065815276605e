// Every operation gets its own result; a failing one changes nothing and does not stop the others.
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ExportResult } from "../../../src/connectors/types.ts";
import { byAnchor, connector, importAll, tempDir } from "./helpers.ts";

const code = (r: ExportResult) => (r.ok ? "ok" : r.code);

test("already-exists, no-such-object, anchor change and bad values fail per operation", async () => {
  const dir = tempDir();
  const c = connector(dir);
  writeFileSync(join(dir, "hr.csv"), "employeeId,sn,age\n1,Lee,30\n2,Kim,40\n");
  const results = await c.export([
    { op: "add", id: "dup", objectType: "person", attrs: { employeeId: "1", sn: "Other" } },
    { op: "add", id: "new", objectType: "person", attrs: { employeeId: "3", sn: "Ray", managerId: "1" } },
    { op: "update", id: "ghost", objectType: "person", anchor: "9", changes: { sn: { replace: "X" } } },
    { op: "delete", id: "ghost-del", objectType: "person", anchor: "9" },
    { op: "update", id: "rename", objectType: "person", anchor: "2", changes: { employeeId: { replace: "20" }, sn: { replace: "Moved" } } },
    { op: "update", id: "same-anchor", objectType: "person", anchor: "2", changes: { employeeId: { replace: "2" }, age: { replace: 41 } } },
    { op: "update", id: "bad-int", objectType: "person", anchor: "1", changes: { age: { replace: "old" } } },
    { op: "update", id: "unknown", objectType: "person", anchor: "1", changes: { shoeSize: { replace: "44" } } },
    { op: "add", id: "no-anchor", objectType: "person", attrs: { sn: "Nobody" } },
    { op: "delete", id: "other-type", objectType: "group", anchor: "1" },
    { op: "update", id: "multi", objectType: "person", anchor: "1", changes: { sn: { replace: ["a", "b"] } } },
    { op: "delete", id: "del", objectType: "person", anchor: "1" },
  ]);
  assert.deepEqual(
    results.map((r) => [r.id, code(r)]),
    [
      ["dup", "already-exists"],
      ["new", "ok"],
      ["ghost", "no-such-object"],
      ["ghost-del", "no-such-object"],
      ["rename", "anchor-change-unsupported"],
      ["same-anchor", "ok"],
      ["bad-int", "invalid-value"],
      ["unknown", "unknown-attribute"],
      ["no-anchor", "missing-anchor"],
      ["other-type", "unknown-object-type"],
      ["multi", "invalid-value"],
      ["del", "ok"],
    ],
  );
  for (const r of results) if (!r.ok) {
    assert.equal(r.retryable, false, r.id);
    assert.match(r.message, /hr\.csv/);
  }
  assert.deepEqual(results[1], { id: "new", ok: true, anchor: "3" });
  const m = byAnchor((await importAll(c)).objects);
  assert.deepEqual([...m.keys()], ["2", "3"]);
  assert.deepEqual(m.get("2")!.attrs, { employeeId: "2", sn: "Kim", age: 41 }); // the failed rename left sn alone
  assert.equal(m.get("3")!.attrs.managerId, "1");
});

test("a batch in which nothing applies leaves the file untouched", async () => {
  const dir = tempDir();
  const file = join(dir, "hr.csv");
  writeFileSync(file, "employeeId,sn\n1,Lee\n");
  const ino = statSync(file).ino;
  const r = await connector(dir).export([
    { op: "delete", id: "d", objectType: "person", anchor: "2" },
    { op: "update", id: "u", objectType: "person", anchor: "1", changes: { sn: { replace: "Lee" } } },
  ]);
  assert.deepEqual(r.map(code), ["no-such-object", "ok"]);
  assert.equal(statSync(file).ino, ino);
  assert.equal(readFileSync(file, "utf8"), "employeeId,sn\n1,Lee\n");
});
