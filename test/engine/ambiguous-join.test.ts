// A join that matches two metaverse objects is an error on that object, never a guess.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { HR_COLUMNS, hrAgent, hrInbound, openTestEngine, person, writeCsv } from "./fixture.ts";

test("a join matching two metaverse objects is reported, not guessed", async () => {
  const t = await openTestEngine();
  try {
    // Two HR people share a department; the badge system joins on department (a poor key).
    t.writeHr([person(1, { department: "Sales" }), person(3, { department: "Sales" }), person(2, { department: "Finance" })]);
    writeCsv(join(t.dir, "badge.csv"), HR_COLUMNS, [person(90, { department: "Sales" }), person(91, { department: "Finance" })]);
    const badge = hrInbound(
      { precedence: 20, projection: false, scope: undefined, join: [{ metaverse: "department", expression: "source.department" }], attributeFlows: [] },
      "badge",
    );
    await t.engine.apply({ managementAgents: [hrAgent(t.dir), hrAgent(t.dir, {}, "badge", "badge.csv")], syncRules: [hrInbound(), badge], retentionPolicies: [] });
    const cycle = await t.engine.cycle();
    const badgeSync = cycle.runs.find((r) => r.ma === "badge" && r.profile.endsWith("sync"))!;
    assert.equal(badgeSync.counts.joins, 1, "the unambiguous one joins");
    const err = badgeSync.errors.find((e) => e.code === "ambiguous-join");
    assert.ok(err, "the ambiguous one is an error");
    assert.equal(err.anchor, "E0090");
    const rows = (await t.db.query<{ anchor: string; mv_id: number | null }>(`select anchor, mv_id from cs_object where ma = 'badge' order by anchor`)).rows;
    assert.equal(rows[0].mv_id, null, "E0090 stays a disconnector");
    assert.notEqual(rows[1].mv_id, null, "E0091 joined the only Finance person");
    assert.equal(cycle.status, "completed-with-errors");
  } finally {
    await t.close();
  }
});
