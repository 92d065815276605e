// Ranked precedence: the lowest precedence number with a value wins, a null falls through to the
// next rule, and a disconnect recalls the values its object contributed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { HR_COLUMNS, hrAgent, hrInbound, openTestEngine, person, writeCsv } from "./fixture.ts";

test("precedence: lowest number wins, null falls through, disconnect recalls", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1, { department: "" }), person(2)]);
    writeCsv(join(t.dir, "badge.csv"), HR_COLUMNS, [
      person(1, { givenName: "Badge", sn: "One", department: "Security" }),
      person(2, { givenName: "Badge", sn: "Two", department: "Facilities" }),
    ]);
    const badgeRule = hrInbound({ precedence: 20, projection: false, scope: undefined }, "badge");
    await t.engine.apply({
      managementAgents: [hrAgent(t.dir), hrAgent(t.dir, {}, "badge", "badge.csv")],
      syncRules: [hrInbound(), badgeRule],
      retentionPolicies: [],
    });
    await t.engine.cycle();
    const mv = async (id: string) =>
      (await t.db.query<{ attrs: Record<string, string>; lineage: Record<string, { ma: string }> }>(
        `select m.attrs, m.lineage from mv_object m join cs_object c on c.mv_id = m.id where c.ma = 'hr' and c.anchor = $1`,
        [id],
      )).rows[0];

    let one = await mv("E0001");
    assert.equal(one.attrs.displayName, "Given1 Family1", "hr (10) wins over badge (20)");
    assert.equal(one.lineage.displayName.ma, "hr");
    assert.equal(one.attrs.department, "Security", "hr's empty department falls through to badge");
    assert.equal(one.lineage.department.ma, "badge");
    assert.equal((await mv("E0002")).attrs.department, "Finance");

    // hr now supplies a department: it takes over.
    t.writeHr([person(1, { department: "Sales" }), person(2)]);
    await t.engine.cycle();
    one = await mv("E0001");
    assert.equal(one.attrs.department, "Sales");
    assert.equal(one.lineage.department.ma, "hr");

    // E0002 leaves hr's scope: hr's values are recalled and badge's take over on the same MV object.
    t.writeHr([person(1, { department: "Sales" }), person(2, { status: "leaver" })]);
    await t.engine.cycle();
    const two = (await t.db.query<{ attrs: Record<string, string>; lineage: Record<string, { ma: string }> }>(
      `select m.attrs, m.lineage from mv_object m join cs_object c on c.mv_id = m.id where c.ma = 'badge' and c.anchor = 'E0002'`,
    )).rows[0];
    assert.equal(two.attrs.displayName, "Badge Two");
    assert.equal(two.attrs.department, "Facilities");
    assert.equal(two.lineage.displayName.ma, "badge");
    const hrTwo = (await t.db.query(`select mv_id, link from cs_object where ma = 'hr' and anchor = 'E0002'`)).rows[0];
    assert.deepEqual(hrTwo, { mv_id: null, link: "normal" });
  } finally {
    await t.close();
  }
});
