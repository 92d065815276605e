// One object whose multi-valued attribute is far larger than validation assumed makes a validated
// expression too expensive: that object gets a per-object error "expression-cost-exceeded" (quickly:
// the cost is refused before evaluating), and every other object syncs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileExpression } from "../../src/expr/index.ts";
import { directoryAgent, directoryOutbound, HR_COLUMNS, hrAgent, hrInbound, openTestEngine, person, retention, writeCsv } from "./fixture.ts";

// Passes validation (10,000 assumed values × 6 names: ~690,000); 200,000 real values put it at
// ~13,800,000, over the run-time budget.
const ROLE = 'source.groups.exists(g, ["cn=admins", "cn=operators", "cn=security", "cn=auditors", "cn=backup", "cn=dba"].exists(r, g.startsWith(r))) ? "admin" : "user"';

test("an object too expensive for an expression is a per-object error; the others sync", async () => {
  assert.doesNotThrow(() => compileExpression(ROLE, { variable: "source" }), "the expression passes validation");
  const t = await openTestEngine();
  try {
    const huge = Array.from({ length: 200_000 }, (_, i) => `cn=g${i}`).join(";");
    writeCsv(join(t.dir, "hr.csv"), [...HR_COLUMNS, "groups"], [
      person(1, { groups: "cn=admins,ou=groups;cn=staff,ou=groups" }),
      person(2, { groups: huge }),
      person(3, { groups: "cn=staff,ou=groups" }),
    ]);
    const agent = hrAgent(t.dir);
    agent.spec.objectTypes[0].attributes.push({ name: "groups", multiValued: true });
    const inbound = hrInbound();
    inbound.spec.attributeFlows!.push({ target: "role", expression: ROLE });
    await t.engine.apply({ managementAgents: [agent, directoryAgent(t.dir)], syncRules: [inbound, directoryOutbound()], retentionPolicies: [retention(["hr"])] });

    const cycle = await t.engine.cycle();
    const sync = cycle.runs.find((r) => r.ma === "hr" && r.profile.endsWith("sync"))!;
    assert.equal(sync.errors.length, 1, JSON.stringify(sync.errors));
    const [error] = sync.errors;
    assert.equal(error.code, "expression-cost-exceeded");
    assert.equal(error.anchor, "E0002");
    assert.match(error.message, /cost limit: '.*source\.groups\.exists.*' would cost an estimated [\d,]+ with this object's values, over the run-time budget of 10,000,000/);
    assert.match(error.message, /source\.groups \(200,000 values\)/);
    assert.equal(cycle.status, "completed-with-errors");

    assert.deepEqual(t.readDirectory().map((r) => r.employeeId), ["E0001", "E0003"]);
    // E0002's projection stands (as with any failing flow) but nothing flowed into it.
    const roles = (await t.db.query<{ id: string; role: string | null }>(`select attrs->>'employeeId' as id, attrs->>'role' as role from mv_object where attrs ? 'employeeId' order by 1`)).rows;
    assert.deepEqual(roles, [{ id: "E0001", role: "admin" }, { id: "E0003", role: "user" }]);
  } finally {
    await t.close();
  }
});
