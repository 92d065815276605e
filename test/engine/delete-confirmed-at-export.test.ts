// A delete the connector's own answer proves done is confirmed by the export itself: the CSV
// connector hands back its results only once the rewritten file (without the row) is in place, so
// no later import is needed. Without this, the delete sat as an unconfirmed pending export — and
// `idsync drift` reported it — until an import happened to sweep it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openTestEngine, person, readCsv, standardConfig, writeCsv } from "./fixture.ts";

test("a deprovisioned row's delete is confirmed at export time, before any import", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 12 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir));
    assert.equal((await t.engine.cycle()).status, "success");
    const [{ id }] = (await t.db.query<{ id: number }>(`select id from cs_object where ma = 'directory' and anchor = 'E0005'`)).rows;

    t.writeHr(people.map((p) => (p.employeeId === "E0005" ? { ...p, status: "leaver" } : p)));
    await t.engine.run("hr", "delta-import");
    await t.engine.run("hr", "delta-sync");
    const exp = await t.engine.run("directory", "export");
    assert.equal(exp.status, "success");
    assert.equal(exp.counts.deletes, 1, "one delete exported");
    assert.equal(exp.counts.confirmed, 1, "and confirmed by the export itself");
    assert.equal(t.readDirectory().some((r) => r.employeeId === "E0005"), false, "the row is gone from the file");

    // No import has run since the export: nothing is left waiting for one.
    const pending = (await t.db.query(`select op, state from pending_export where cs_id = $1`, [id])).rows;
    assert.deepEqual(pending, [], "no pending export for the deleted row");
    assert.equal((await t.db.query(`select 1 from cs_object where id = $1`, [id])).rows.length, 0, "the disconnected CS object is gone");
    const status = await t.engine.status("directory");
    assert.equal(status.pendingExports.unconfirmed, 0);
    assert.equal(status.pendingExports.deletes, 0);

    // The next import finds nothing to confirm or report, and nothing changes.
    const imp = await t.engine.run("directory", "delta-import");
    assert.deepEqual(imp.errors, []);
    assert.equal(imp.counts.deletes, 0);
    assert.equal((await t.engine.cycle()).changed, false);
  } finally {
    await t.close();
  }
});

test("a delete that fails stays pending and is not confirmed", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 12 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir));
    assert.equal((await t.engine.cycle()).status, "success");

    t.writeHr(people.map((p) => (p.employeeId === "E0006" ? { ...p, status: "leaver" } : p)));
    await t.engine.run("hr", "delta-import");
    await t.engine.run("hr", "delta-sync");
    // The row vanishes by hand before the export: the CSV connector reports no-such-object.
    const file = join(t.dir, "directory.csv");
    const rows = readCsv(file);
    writeCsv(file, Object.keys(rows[0]), rows.filter((r) => r.employeeId !== "E0006"));
    const exp = await t.engine.run("directory", "export");
    assert.equal(exp.counts.confirmed, 0);
    const pending = (await t.db.query<{ state: string }>(`select p.state from pending_export p join cs_object c on c.id = p.cs_id where c.ma = 'directory' and c.anchor = 'E0006'`)).rows;
    assert.deepEqual(pending.map((r) => r.state), ["error"]);
  } finally {
    await t.close();
  }
});
