// Objects per CSV file are bounded (csv.maxObjects, default 1,000,000): an import of a file with
// more rows fails the run with a clear message before anything is staged (nothing is added, and
// nothing the file would have dropped is deleted); an export adds no row beyond the limit, each
// add over it an error of its object.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("a source with more rows than csv.maxObjects fails the import, and nothing changes", async () => {
  const t = await openTestEngine();
  try {
    const config = standardConfig(t.dir);
    config.managementAgents[0].spec.connector.csv!.maxObjects = 5;
    t.writeHr([1, 2, 3].map((n) => person(n)));
    await t.engine.apply(config);
    assert.equal((await t.engine.cycle()).status, "success");

    t.writeHr([2, 4, 5, 6, 7, 8].map((n) => person(n)));
    const r = await t.engine.run("hr", "full-import");
    assert.equal(r.status, "failed");
    assert.match(r.message ?? "", /hr\.csv: more than 5 rows, the most this management agent reads from one file \(raise csv\.maxObjects/);
    const cs = (await t.db.query<{ anchor: string }>(`select anchor from cs_object where ma = 'hr' and not deleted and pending_import is null order by anchor`)).rows;
    assert.deepEqual(cs.map((c) => c.anchor), ["E0001", "E0002", "E0003"], "nothing staged: no add, no delete, no pending change");
  } finally {
    await t.close();
  }
});

test("an export stops adding rows at csv.maxObjects", async () => {
  const t = await openTestEngine();
  try {
    const config = standardConfig(t.dir);
    config.managementAgents[1].spec.connector.csv!.maxObjects = 2;
    t.writeHr([1, 2, 3].map((n) => person(n)));
    await t.engine.apply(config);
    const r = await t.engine.cycle();
    const exp = r.runs.find((x) => x.ma === "directory" && x.profile === "export")!;
    assert.deepEqual(exp.errors.map((e) => [e.code, e.anchor]), [["too-many-objects", "E0003"]]);
    assert.match(exp.errors[0].message, /directory\.csv: .*the file holds 2 objects, the most it may \(csv\.maxObjects: 2\)/);
    assert.equal(t.readDirectory().length, 2);
  } finally {
    await t.close();
  }
});
