// A missing file is an empty one: zero objects, no error; an export creates it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connector, importAll, tempDir } from "./helpers.ts";

test("a missing file imports as empty", async () => {
  const dir = tempDir();
  const c = connector(dir, { path: "nowhere/hr.csv" });
  const { objects, problems } = await importAll(c);
  assert.equal(objects.length, 0);
  assert.equal(problems.length, 0);
  const delta = await c.deltaImport(undefined);
  assert.equal(delta.mode, "snapshot");
  let items = 0;
  for await (const b of delta.batches) items += b.items.length;
  assert.equal(items, 0);
  assert.match((await delta.watermark())!, /^sha256:[0-9a-f]{64}$/);
});

test("an export to a missing file (and directory) creates it", async () => {
  const dir = tempDir();
  const c = connector(dir, { path: "out/new.csv" });
  const r = await c.export([{ op: "add", id: "1", objectType: "person", attrs: { employeeId: "9", sn: "Ng" } }]);
  assert.deepEqual(r, [{ id: "1", ok: true, anchor: "9" }]);
  assert.equal(readFileSync(join(dir, "out/new.csv"), "utf8"), "employeeId,givenName,sn,mail,age,active,groups,managerId\n9,,Ng,,,,,\n");
});
