// Deprovisioning as declared: `disconnect` keeps the target object and unlinks it; `disable`
// flows the declared values and unlinks; `delete` (see leaver-deprovision) deletes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { directoryAgent, directoryOutbound, hrAgent, hrInbound, openTestEngine, person, retention } from "./fixture.ts";

for (const action of ["disconnect", "disable"] as const) {
  test(`deprovision: ${action}`, async () => {
    const t = await openTestEngine();
    try {
      t.writeHr([person(1), person(2)]);
      const outbound = directoryOutbound({
        deprovision: action,
        scope: 'mv.department != "Finance"',
        deprovisionFlows: action === "disable" ? [{ target: "department", expression: '"DISABLED"' }] : undefined,
      });
      await t.engine.apply({ managementAgents: [hrAgent(t.dir), directoryAgent(t.dir)], syncRules: [hrInbound(), outbound], retentionPolicies: [retention(["hr"])] });
      await t.engine.cycle();
      assert.deepEqual(t.readDirectory().map((r) => r.employeeId), ["E0001"], "E0002 (Finance) is out of scope");

      // E0001 moves to Finance: out of the outbound scope.
      t.writeHr([person(1, { department: "Finance" }), person(2)]);
      const cycle = await t.engine.cycle();
      const sync = cycle.runs.find((r) => r.ma === "hr" && r.profile === "delta-sync")!;
      assert.equal(sync.counts.deprovisions, 1);
      const row = t.readDirectory().find((r) => r.employeeId === "E0001");
      assert.ok(row, "the account is kept");
      assert.equal(row.department, action === "disable" ? "DISABLED" : "Sales");
      const cs = (await t.db.query(`select mv_id, link from cs_object where ma = 'directory' and anchor = 'E0001'`)).rows[0];
      assert.deepEqual(cs, { mv_id: null, link: "normal" }, "unlinked: a normal disconnector");
      const again = await t.engine.cycle();
      assert.equal(again.changed, false, "and it stays that way");
    } finally {
      await t.close();
    }
  });
}
