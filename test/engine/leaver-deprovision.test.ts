// A leaver leaves the inbound scope: the MV object is deleted per the RetentionPolicy and the
// directory account is deprovisioned (deleted) by the next export.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("a leaver is deprovisioned and the metaverse object deleted per the RetentionPolicy", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 30 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir));
    await t.engine.cycle();
    assert.ok(t.readDirectory().some((r) => r.employeeId === "E0005"));

    t.writeHr(people.map((p) => (p.employeeId === "E0005" ? { ...p, status: "leaver" } : p)));
    const cycle = await t.engine.cycle();
    const hrSync = cycle.runs.find((r) => r.ma === "hr" && r.profile === "delta-sync")!;
    assert.equal(hrSync.counts.disconnects, 1);
    assert.equal(hrSync.counts.deletes, 1, "MV object deleted");
    assert.equal(hrSync.counts.deprovisions, 1);
    const exp = cycle.runs.find((r) => r.ma === "directory" && r.profile === "export")!;
    assert.equal(exp.counts.deletes, 1);
    assert.equal(t.readDirectory().some((r) => r.employeeId === "E0005"), false);
    assert.equal(t.readDirectory().length, 29);

    const mv = (await t.db.query<{ deleted_at: string | null; attrs: Record<string, string> }>(
      `select deleted_at, attrs from mv_object where attrs->>'employeeId' = 'E0005'`,
    )).rows;
    assert.equal(mv.length, 1, "kept for the grace period");
    assert.notEqual(mv[0].deleted_at, null);
    const dirCs = (await t.db.query(`select 1 from cs_object where ma = 'directory' and anchor = 'E0005'`)).rows;
    assert.equal(dirCs.length, 0, "the confirmed delete leaves nothing in the directory's connector space");
  } finally {
    await t.close();
  }
});
