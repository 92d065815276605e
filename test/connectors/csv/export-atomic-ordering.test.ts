// Export rewrites the whole file through a temp file and a rename: a reader sees the old or the new
// content, never a part; no temp file stays behind; rows come out sorted by anchor, whatever the
// order of the operations, with the anchor columns first.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ExportOperation } from "../../../src/connectors/types.ts";
import { connector, importAll, tempDir } from "./helpers.ts";

const addOp = (i: number): ExportOperation => ({
  op: "add",
  id: `a${i}`,
  objectType: "person",
  attrs: { sn: `Name ${i}, "quoted"`, employeeId: `E${String(i).padStart(5, "0")}`, groups: ["x", "y"] },
});

test("a concurrent reader only ever sees complete files; no temp file remains", async () => {
  const dir = tempDir();
  const file = join(dir, "hr.csv");
  const c = connector(dir);
  await c.export(Array.from({ length: 20000 }, (_, i) => addOp(i)));
  const before = readFileSync(file, "utf8");
  const inode = statSync(file).ino;

  const seen = new Set<string>();
  let reading = true;
  const observe = () => {
    seen.add(readFileSync(file, "utf8"));
    if (reading) setImmediate(observe);
  };
  observe();
  const ops: ExportOperation[] = [
    ...Array.from({ length: 20000 }, (_, i): ExportOperation => ({ op: "update", id: `u${i}`, objectType: "person", anchor: `E${String(i).padStart(5, "0")}`, changes: { mail: { replace: `m${i}@x` } } })),
  ];
  const results = await c.export(ops);
  reading = false;
  const afterText = readFileSync(file, "utf8");
  seen.add(afterText);

  assert.ok(results.every((r) => r.ok));
  assert.notEqual(afterText, before);
  for (const s of seen) assert.ok(s === before || s === afterText, `a partial file was observed (${s.length} chars)`);
  assert.notEqual(statSync(file).ino, inode, "the file was replaced by a rename, not rewritten in place");
  assert.deepEqual(readdirSync(dir), ["hr.csv"]);
  const { objects, problems } = await importAll(c);
  assert.equal(problems.length, 0);
  assert.equal(objects.length, 20000);
  assert.equal(objects[19999].attrs.mail, "m19999@x");
});

test("the same operations in any order give byte-identical files, anchors first and sorted", async () => {
  const a = tempDir();
  const b = tempDir();
  const ops = [3, 1, 10, 2].map(addOp);
  await connector(a).export(ops);
  await connector(b).export([...ops].reverse());
  const ta = readFileSync(join(a, "hr.csv"), "utf8");
  assert.equal(ta, readFileSync(join(b, "hr.csv"), "utf8"));
  assert.deepEqual(ta.split("\n"), [
    "employeeId,givenName,sn,mail,age,active,groups,managerId",
    'E00001,,"Name 1, ""quoted""",,,,x;y,',
    'E00002,,"Name 2, ""quoted""",,,,x;y,',
    'E00003,,"Name 3, ""quoted""",,,,x;y,',
    'E00010,,"Name 10, ""quoted""",,,,x;y,',
    "",
  ]);
});

test("columns the schema does not declare, untouched cells, BOM and CRLF are kept", async () => {
  const dir = tempDir();
  const file = join(dir, "hr.csv");
  writeFileSync(file, "\uFEFFcostCenter,SN,employeeid,active\r\nCC1,Lee,2,yes\r\nCC2,Kim,1,no\r\n");
  const r = await connector(dir).export([
    { op: "update", id: "u", objectType: "person", anchor: "2", changes: { active: { replace: true }, sn: { replace: "Li" } } },
    { op: "add", id: "a", objectType: "person", attrs: { employeeId: "3", active: true } },
  ]);
  assert.deepEqual(r.map((x) => x.ok), [true, true]);
  assert.equal(
    readFileSync(file, "utf8"),
    "\uFEFFemployeeId,givenName,sn,mail,age,active,groups,managerId,costCenter\r\n" +
      "1,,Kim,,,no,,,CC2\r\n" +
      "2,,Li,,,yes,,,CC1\r\n" +
      "3,,,,,true,,,\r\n",
  );
});
