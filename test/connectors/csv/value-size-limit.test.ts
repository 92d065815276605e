// Values are bounded: an attribute value (each value of a multi-valued attribute) holds at most
// 64 KiB, a cell at most 8 MiB. A bigger cell fails its row (value-too-large, with the anchor, so
// the object stays as it was) and the rest imports; an export of a bigger value fails that object
// and leaves the file as it was. A line longer than 16 MiB fails the import as a whole: nothing on
// it can be told apart.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { MAX_CELL_BYTES, MAX_RECORD_BYTES, MAX_VALUE_BYTES } from "../../../src/connectors/csv/limits.ts";
import { byAnchor, connector, importAll, tempDir } from "./helpers.ts";

test("a 10 MB cell fails its row with value-too-large; the other rows import", async () => {
  const dir = tempDir();
  const huge = "x".repeat(10 * 1024 * 1024);
  writeFileSync(join(dir, "hr.csv"), `employeeId,givenName,sn\nE1,Ann,Lee\nE2,${huge},Kim\nE3,Bo,Ray\n`);
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual([...byAnchor(objects).keys()].sort(), ["E1", "E3"]);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].code, "value-too-large");
  assert.equal(problems[0].anchor, "E2", "the anchor lets the engine keep the object as it was");
  assert.equal(problems[0].location, "line 3");
  assert.match(problems[0].message, /column 'givenName' holds 10 MiB; at most 64 KiB is allowed/);
});

test("the limit is per value: 64 KiB passes, one byte more does not", async () => {
  const dir = tempDir();
  const at = "é".repeat(MAX_VALUE_BYTES / 2); // two bytes of UTF-8 each
  writeFileSync(join(dir, "hr.csv"), `employeeId,givenName,sn\nE1,${at},a\nE2,${at}x,b\n`);
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual(objects.map((o) => o.anchor), ["E1"]);
  assert.deepEqual(problems.map((p) => [p.anchor, p.code]), [["E2", "value-too-large"]]);
});

test("a multi-valued cell may hold many values up to 8 MiB, each at most 64 KiB", async () => {
  const dir = tempDir();
  const many = Array.from({ length: 200_000 }, (_, i) => `cn=group${i}`).join(";"); // ~3 MB: a big group
  const tooMany = Array.from({ length: 600_000 }, (_, i) => `cn=group${i}`).join(";"); // > 8 MiB
  const oneHuge = `small;${"g".repeat(MAX_VALUE_BYTES + 1)}`;
  writeFileSync(join(dir, "hr.csv"), `employeeId,groups\nE1,${many}\nE2,${tooMany}\nE3,${oneHuge}\n`);
  assert.ok(tooMany.length > MAX_CELL_BYTES);
  const { objects, problems } = await importAll(connector(dir));
  assert.equal((byAnchor(objects).get("E1")?.attrs.groups as string[]).length, 200_000);
  assert.deepEqual(problems.map((p) => [p.anchor, p.code]), [["E2", "value-too-large"], ["E3", "value-too-large"]]);
  assert.match(problems[1].message, /a value of column 'groups' holds 64 KiB; at most 64 KiB is allowed/);
});

test("an export of a value over the limit fails that object, not the batch, and writes nothing for it", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "employeeId,givenName\nE1,Ann\n");
  const c = connector(dir);
  const results = await c.export([
    { op: "update", id: "1", objectType: "person", anchor: "E1", changes: { givenName: { replace: "y".repeat(MAX_VALUE_BYTES + 1) } } },
    { op: "add", id: "2", objectType: "person", attrs: { employeeId: "E2", givenName: "z".repeat(10 * 1024 * 1024) } },
    { op: "add", id: "3", objectType: "person", attrs: { employeeId: "E3", givenName: "Bo" } },
  ]);
  assert.deepEqual(
    results.map((r) => (r.ok ? "ok" : [r.code, r.retryable])),
    [["value-too-large", false], ["value-too-large", false], "ok"],
  );
  const text = readFileSync(join(dir, "hr.csv"), "utf8");
  assert.ok(text.length < 1000, "neither big value reached the file");
  assert.match(text, /^E1,Ann/m);
  assert.match(text, /^E3,Bo/m);
});

test("a line longer than 16 MiB fails the import before anything is read as an object", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), `employeeId,givenName\nE1,Ann\nE2,${"w".repeat(MAX_RECORD_BYTES + 1024)}\n`);
  await assert.rejects(importAll(connector(dir)), (e: Error) => {
    assert.equal(e.name, "CsvFormatError");
    assert.match(e.message, /hr\.csv: line 3 is longer than 16 MiB/);
    return true;
  });
});

test("a quoted cell still open after 16 MiB is a broken quote on its first line; the rows after it are read", async () => {
  const dir = tempDir();
  const body = Array.from({ length: 20 }, () => "q".repeat(1024 * 1024)).join("\n");
  writeFileSync(join(dir, "hr.csv"), `employeeId,givenName\nE1,"${body}\nE2,Bo\n`);
  const { objects, problems } = await importAll(connector(dir));
  assert.equal(problems[0].code, "unterminated-quote");
  assert.equal(problems[0].location, "line 2");
  assert.ok(objects.some((o) => o.anchor === "E2"), "resynchronised after the broken record");
});
