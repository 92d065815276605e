// The deletion guard is on by default and stands before the metaverse: an import that would mark
// too many objects deleted stages none of those deletes, so no metaverse object is deleted and no
// account deprovisioned; the run says how to release it, and --allow-deletes does, once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("an import that would delete too many holds every delete, with no threshold declared", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 40 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir)); // no deletionThreshold anywhere: the default guards
    assert.equal((await t.engine.cycle()).status, "success");
    assert.equal(t.readDirectory().length, 40);

    // An HR export that lost half its rows.
    t.writeHr(people.slice(0, 20));
    const held = await t.engine.cycle();
    const imp = held.runs.find((r) => r.ma === "hr" && r.profile.endsWith("import"))!;
    assert.equal(imp.status, "stopped-deletion-threshold");
    assert.equal(imp.blockedDeletes, 20);
    assert.equal(imp.counts.deletes, 0);
    assert.match(imp.message ?? "", /would delete 20 of 40 objects of hr .*maxPercent 10/);
    assert.match(imp.message ?? "", /idsync run hr delta-import --allow-deletes/);
    assert.match(imp.message ?? "", /idsync\.dev\/allow-deletes="20"/);
    assert.equal(held.status, "stopped-deletion-threshold");
    const live = async () => (await t.db.query<{ n: number }>(`select count(*) as n from mv_object where deleted_at is null`)).rows[0].n;
    assert.equal(await live(), 40, "the metaverse keeps every object");
    assert.equal((await t.db.query(`select 1 from cs_object where ma = 'hr' and (deleted or pending_import = 'delete')`)).rows.length, 0, "nothing staged as deleted");
    assert.equal((await t.db.query(`select 1 from pending_export where op = 'delete'`)).rows.length, 0, "no delete waits downstream");
    assert.equal(t.readDirectory().length, 40);
    const status = await t.engine.status("hr");
    assert.equal(status.blockedDeletes, 20);
    assert.equal(status.heldImport?.profile, "delta-import");

    // Still held on the next cycle (the watermark did not move past the deletes)…
    const again = await t.engine.cycle();
    assert.equal(again.status, "stopped-deletion-threshold");
    assert.equal(await live(), 40);
    // …until released once; the directory's own guard (the default, 50%) then holds the deletes
    // downstream until released too: --allow-deletes on a cycle releases both.
    const released = await t.engine.cycle({ allowDeletes: true });
    assert.equal(released.status, "success", JSON.stringify(released.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
    assert.equal(await live(), 20);
    assert.equal(t.readDirectory().length, 20);
    assert.equal((await t.engine.status("hr")).blockedDeletes, 0);
    assert.equal((await t.engine.cycle()).changed, false);
  } finally {
    await t.close();
  }
});

test("a few deletes pass the default guard", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 40 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir));
    await t.engine.cycle();
    // 3 of 40 (7.5%) is within 10%; and 8 of the remaining 37 (22%) is no more than minDeletes 10.
    t.writeHr(people.slice(0, 37));
    assert.equal((await t.engine.cycle()).status, "success");
    t.writeHr(people.slice(0, 29));
    const r = await t.engine.cycle();
    assert.equal(r.status, "success");
    assert.equal(t.readDirectory().length, 29);
  } finally {
    await t.close();
  }
});

test("a declared threshold replaces the default, and {} turns the guard off", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 40 }, (_, i) => person(i + 1));
    t.writeHr(people);
    const config = standardConfig(t.dir);
    config.managementAgents[0].spec.deletionThreshold = { maxDeletes: 2 };
    config.managementAgents[1].spec.deletionThreshold = {};
    await t.engine.apply(config);
    await t.engine.cycle();
    t.writeHr(people.slice(0, 37));
    const held = await t.engine.cycle();
    assert.equal(held.status, "stopped-deletion-threshold");
    assert.match(held.runs.find((r) => r.ma === "hr" && r.profile.endsWith("import"))?.message ?? "", /3 deletes exceed maxDeletes 2/);

    config.managementAgents[0].spec.deletionThreshold = {};
    await t.engine.apply(config);
    t.writeHr([]);
    // No guard: even the whole HR file may go (allowEmpty aside, see source-empty.test.ts).
    config.managementAgents[0].spec.allowEmpty = true;
    await t.engine.apply(config);
    const all = await t.engine.cycle();
    assert.equal(all.status, "success", JSON.stringify(all.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
    assert.equal(t.readDirectory().length, 0);
  } finally {
    await t.close();
  }
});
