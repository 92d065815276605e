// A missing file is not an empty one: reading it says the file is missing (the engine decides
// whether that is a vanished source or a target not written yet); an export creates it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { SourceMissingError } from "../../../src/connectors/errors.ts";
import { connector, importAll, tempDir } from "./helpers.ts";

test("a missing file is reported as missing, not read as empty", async () => {
  const dir = tempDir();
  const c = connector(dir, { path: "nowhere/hr.csv" });
  await assert.rejects(importAll(c), (e: Error) => {
    assert.ok(e instanceof SourceMissingError);
    assert.match(e.message, /nowhere\/hr\.csv: the file does not exist/);
    return true;
  });
  const delta = await c.deltaImport(undefined);
  await assert.rejects(async () => {
    for await (const b of delta.batches) void b;
  }, SourceMissingError);
});

test("an export to a missing file (and directory) creates it", async () => {
  const dir = tempDir();
  const c = connector(dir, { path: "out/new.csv" });
  const r = await c.export([{ op: "add", id: "1", objectType: "person", attrs: { employeeId: "9", sn: "Ng" } }]);
  assert.deepEqual(r, [{ id: "1", ok: true, anchor: "9" }]);
  assert.equal(readFileSync(join(dir, "out/new.csv"), "utf8"), "employeeId,givenName,sn,mail,age,active,groups,managerId\n9,,Ng,,,,,\n");
});
