// Retention purges exactly what is older than the grace period, by the engine's clock (the test
// controls it): deleted metaverse objects and their disconnected connector-space objects, and run
// history older than runHistory.keep except each MA's latest run per profile; a dry run purges
// nothing; every purge is in the audit trail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { enforceRetention } from "../../src/engine/retention.ts";
import { listAudit } from "../../src/privacy/audit.ts";
import { openTestEngine, person, standardConfig } from "../engine/fixture.ts";
import { dumpAllTables, mvIdOf } from "./fixture.ts";

const DAY = 86_400_000;
const t0 = Date.parse("2024-01-01T00:00:00Z");

test("retention purges what is older than the grace period, and only that", async () => {
  let clock = t0;
  const t = await openTestEngine({ now: () => new Date(clock) });
  try {
    const config = standardConfig(t.dir);
    config.retentionPolicies[0].spec.runHistory = { keep: "7d" }; // gracePeriod: the 30-day default
    const staff = Array.from({ length: 6 }, (_, i) => person(i + 1));
    t.writeHr(staff);
    await t.engine.apply(config);
    await t.engine.cycle();
    const firstCycleRuns = (await t.db.query<{ id: number }>(`select id from run_history`)).rows.map((r) => r.id);

    clock = t0 + 1 * DAY; // E0001, everybody's manager, leaves
    const leaver1 = await mvIdOf(t.db, "E0001");
    t.writeHr(staff.map((p) => (p.employeeId === "E0001" ? { ...p, status: "leaver" } : p)));
    await t.engine.cycle();
    clock = t0 + 10 * DAY; // E0004 leaves
    const leaver2 = await mvIdOf(t.db, "E0004");
    t.writeHr(staff.map((p) => (["E0001", "E0004"].includes(p.employeeId) ? { ...p, status: "leaver" } : p)));
    await t.engine.cycle();
    const deleted = async () => (await t.db.query<{ id: number }>(`select id from mv_object where deleted_at is not null order by id`)).rows.map((r) => r.id);
    const hrAnchors = async () => (await t.db.query<{ anchor: string }>(`select anchor from cs_object where ma = 'hr' order by anchor`)).rows.map((r) => r.anchor);
    assert.deepEqual(await deleted(), [leaver1, leaver2].sort((a, b) => a - b));
    const runsBefore = (await t.db.query<{ id: number; ma: string; profile: string; started_at: Date }>(`select id, ma, profile, started_at from run_history order by id`)).rows;
    const config1 = t.engine.config();

    // Day 12: run history older than 7 days goes (the first two cycles), except each MA's latest
    // run of each profile; nothing is past the 30-day grace period yet.
    const r12 = await enforceRetention(t.db, config1, { now: new Date(t0 + 12 * DAY), actor: "test" });
    const latest = new Map<string, number>();
    for (const r of runsBefore) latest.set(`${r.ma}/${r.profile}`, r.id);
    const expectedGone = runsBefore.filter((r) => r.started_at.getTime() < t0 + 5 * DAY && latest.get(`${r.ma}/${r.profile}`) !== r.id).map((r) => r.id);
    const runsAfter = (await t.db.query<{ id: number }>(`select id from run_history order by id`)).rows.map((r) => r.id);
    assert.deepEqual(runsAfter, runsBefore.map((r) => r.id).filter((id) => !expectedGone.includes(id)));
    assert.ok(expectedGone.length > 0 && firstCycleRuns.every((id) => expectedGone.includes(id) || [...latest.values()].includes(id)));
    assert.equal(r12.purged.runs, expectedGone.length);
    assert.equal(r12.purged.metaverseObjects, 0);
    assert.equal(r12.purged.connectorSpaceObjects, 0);
    assert.deepEqual(await deleted(), [leaver1, leaver2].sort((a, b) => a - b));

    // Exactly 30 days after the first deletion: not older than the grace period, kept.
    const atBoundary = await enforceRetention(t.db, config1, { now: new Date(t0 + 31 * DAY), actor: "test" });
    assert.equal(atBoundary.purged.metaverseObjects, 0);
    assert.deepEqual(await hrAnchors(), ["E0001", "E0002", "E0003", "E0004", "E0005", "E0006"]);

    // A dry run one millisecond later counts, and changes nothing.
    const dump = await dumpAllTables(t.db);
    const dry = await enforceRetention(t.db, config1, { now: new Date(t0 + 31 * DAY + 1), actor: "test", dryRun: true });
    assert.deepEqual({ mv: dry.purged.metaverseObjects, cs: dry.purged.connectorSpaceObjects }, { mv: 1, cs: 1 });
    assert.deepEqual(await dumpAllTables(t.db), dump);

    // One millisecond past the grace period: the first leaver goes, with its HR disconnector and
    // the references the others held to them; the second leaver stays.
    const purge = await enforceRetention(t.db, config1, { now: new Date(t0 + 31 * DAY + 1), actor: "test" });
    assert.equal(purge.purged.metaverseObjects, 1);
    assert.equal(purge.purged.connectorSpaceObjects, 1);
    assert.deepEqual(await deleted(), [leaver2]);
    assert.deepEqual(await hrAnchors(), ["E0002", "E0003", "E0004", "E0005", "E0006"]);
    assert.equal(purge.purged.referencingObjects, 5, "E0002 to E0006 (the deleted E0004 too) referenced the purged manager");
    const dangling = await t.db.query(`select id from mv_object where attrs->>'manager' = $1`, [String(leaver1)]);
    assert.equal(dangling.rows.length, 0);

    // One audit record per purge that removed something (the boundary call removed old runs only).
    const audit = await listAudit(t.db);
    const purging = [r12, atBoundary, purge].filter((r) => Object.values(r.purged).some((n) => n > 0));
    assert.deepEqual(audit.map((a) => a.action), purging.map(() => "retention-purge"));
    assert.equal(audit[0].details.metaverseObjects, 1);
    assert.equal(audit[0].details.connectorSpaceObjects, 1);
    assert.equal(audit[audit.length - 1].details.runs, expectedGone.length);
  } finally {
    await t.close();
  }
});
