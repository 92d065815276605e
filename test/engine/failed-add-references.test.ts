// An add that failed is not in the target: a reference to it is left out (as a manager who has no
// account yet) until the add succeeds, and then it is written without a full sync. CSV target:
// a 80 000-character displayName is more than a CSV value may hold (64 KiB), so that add fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { directoryAgent, directoryOutbound, hrAgent, hrInbound, openTestEngine, person, retention, standardConfig } from "./fixture.ts";

const tooLong = { givenName: "G".repeat(40_000), sn: "S".repeat(40_000) };

test("a reference to a failed add is left out, and written once the add's data is fixed", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(2, { managerId: "E0009" }), person(9, tooLong)]);
    await t.engine.apply(standardConfig(t.dir));
    const first = await t.engine.cycle();
    assert.equal(first.status, "completed-with-errors");
    assert.deepEqual(first.objectErrors, { directory: 1 }, "only the failed add is an error");
    const dir = () => Object.fromEntries(t.readDirectory().map((r) => [r.employeeId, r.manager]));
    assert.deepEqual(dir(), { E0001: "", E0002: "" }, "E0002 is written without the manager who has no account");

    // Computed again with the same values (a full sync), the failed add keeps its error.
    await t.engine.run("hr", "full-sync");
    const state = await t.db.query(`select p.state from pending_export p join cs_object c on c.id = p.cs_id where c.ma = 'directory' and c.anchor = 'E0009'`);
    assert.deepEqual(state.rows, [{ state: "error" }]);

    // Fixed: the add is pending again, and the sync that rewrites it recomputes E0002 to name it.
    t.writeHr([person(1), person(2, { managerId: "E0009" }), person(9)]);
    await t.engine.run("hr", "delta-import");
    await t.engine.run("hr", "delta-sync");
    const pe = await t.db.query(`select p.changes->>'manager' as manager from pending_export p join cs_object c on c.id = p.cs_id where c.ma = 'directory' and c.anchor = 'E0002'`);
    assert.deepEqual(pe.rows, [{ manager: "E0009" }]);
    const second = await t.engine.cycle();
    assert.equal(second.status, "success");
    assert.deepEqual(dir(), { E0001: "", E0002: "E0009", E0009: "E0001" }, "the reference is written once the add succeeds");
  } finally {
    await t.close();
  }
});

test("a failed add that succeeds on a retry (its data unchanged) becomes a reference target", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(2, { managerId: "E0009" }), person(9, { managerId: "" })]);
    await t.engine.apply(standardConfig(t.dir));
    await t.engine.run("hr", "full-import");
    await t.engine.run("directory", "full-import");
    await t.engine.run("hr", "full-sync");
    await t.engine.run("directory", "full-sync"); // settles the full sync the new configuration asks for
    // Someone puts a row with E0009's anchor into the file after the import: E0009's add fails.
    const file = join(t.dir, "directory.csv");
    writeFileSync(file, "employeeId,displayName,department,manager\nE0009,Somebody Else,,\n");
    const exp = await t.engine.run("directory", "export");
    assert.deepEqual(exp.errors.map((e) => e.code), ["already-exists"]);
    const rows = () => Object.fromEntries(t.readDirectory().map((r) => [r.employeeId, [r.displayName, r.manager]]));
    assert.deepEqual(rows(), { E0001: ["Given1 Family1", ""], E0002: ["Given2 Family2", ""], E0009: ["Somebody Else", ""] });

    // The row goes again; the next cycle retries the add, which succeeds, and E0002 gets its manager.
    writeFileSync(file, readFileSync(file, "utf8").split("\n").filter((l) => !l.startsWith("E0009")).join("\n"));
    const cycle = await t.engine.cycle();
    assert.equal(cycle.status, "success");
    assert.deepEqual(rows(), { E0001: ["Given1 Family1", ""], E0002: ["Given2 Family2", "E0009"], E0009: ["Given9 Family9", ""] });
    assert.ok(!cycle.runs.some((r) => r.profile === "full-sync"), "without a full sync");
  } finally {
    await t.close();
  }
});

for (const action of ["disable", "disconnect", "delete"] as const) {
  test(`deprovisioning (${action}) an object whose add never succeeded sends nothing and forgets it`, async () => {
    const t = await openTestEngine();
    try {
      t.writeHr([person(1), person(9, tooLong)]);
      const outbound = directoryOutbound({
        deprovision: action,
        scope: 'mv.department != "Finance"',
        deprovisionFlows: action === "disable" ? [{ target: "department", expression: '"DISABLED"' }] : undefined,
      });
      await t.engine.apply({ managementAgents: [hrAgent(t.dir), directoryAgent(t.dir)], syncRules: [hrInbound(), outbound], retentionPolicies: [retention(["hr"])] });
      assert.equal((await t.engine.cycle()).status, "completed-with-errors");

      t.writeHr([person(1), person(9, { ...tooLong, department: "Finance" })]);
      const cycle = await t.engine.cycle();
      assert.equal(cycle.status, "success", JSON.stringify(cycle.runs.flatMap((r) => r.errors)));
      assert.deepEqual(t.readDirectory().map((r) => r.employeeId), ["E0001"]);
      const left = await t.db.query(`select c.id from cs_object c where c.ma = 'directory' and c.anchor = 'E0009'`);
      assert.equal(left.rows.length, 0, "the connector-space object is gone");
      const pes = await t.db.query(`select cs_id from pending_export where ma = 'directory'`);
      assert.equal(pes.rows.length, 0, "and nothing is pending");
      assert.equal((await t.engine.cycle()).changed, false);
    } finally {
      await t.close();
    }
  });
}

test("an add exported but not confirmed yet is deprovisioned as declared (it may exist)", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(5)]);
    const outbound = directoryOutbound({ deprovision: "disable", scope: 'mv.department != "Finance"', deprovisionFlows: [{ target: "department", expression: '"DISABLED"' }] });
    await t.engine.apply({ managementAgents: [hrAgent(t.dir), directoryAgent(t.dir)], syncRules: [hrInbound(), outbound], retentionPolicies: [retention(["hr"])] });
    await t.engine.run("hr", "full-import");
    await t.engine.run("hr", "full-sync");
    await t.engine.run("directory", "export"); // E0005's add is sent; no import has confirmed it yet
    t.writeHr([person(1), person(5, { department: "Finance" })]);
    await t.engine.run("hr", "delta-import");
    await t.engine.run("hr", "delta-sync");
    const pe = await t.db.query<{ op: string; changes: unknown }>(
      `select p.op, p.changes from pending_export p join cs_object c on c.id = p.cs_id where c.anchor = 'E0005' and p.state <> 'unconfirmed'`,
    );
    assert.deepEqual(pe.rows, [{ op: "update", changes: { department: "DISABLED" } }]);
    await t.engine.cycle();
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0005")?.department, "DISABLED");
  } finally {
    await t.close();
  }
});
