// References: a manager is resolved to its metaverse object inbound, and written outbound as the
// manager's anchor in the directory, also when the manager comes after the person in the file,
// and once a manager who was missing appears.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("manager references resolve in and out, whatever the order", async () => {
  const t = await openTestEngine({ batchSize: 2 });
  try {
    // E0001 reports to E0004, who comes later in the file and in a later batch; E0002's manager E0009 does not exist yet.
    t.writeHr([person(1, { managerId: "E0004" }), person(2, { managerId: "E0009" }), person(3, { managerId: "E0001" }), person(4, { managerId: "" })]);
    await t.engine.apply(standardConfig(t.dir));
    await t.engine.cycle();
    const dir = () => Object.fromEntries(t.readDirectory().map((r) => [r.employeeId, r.manager]));
    assert.deepEqual(dir(), { E0001: "E0004", E0002: "", E0003: "E0001", E0004: "" });
    const mv = (await t.db.query<{ manager: string; mid: string }>(
      `select m.attrs->>'manager' as manager, (select attrs->>'employeeId' from mv_object x where x.id = (m.attrs->>'manager')::bigint) as mid
         from mv_object m where m.attrs->>'employeeId' = 'E0001'`,
    )).rows[0];
    assert.equal(mv.mid, "E0004", "the metaverse holds the manager's MV id");

    // The missing manager is hired: E0002's reference resolves without E0002 itself changing.
    t.writeHr([person(1, { managerId: "E0004" }), person(2, { managerId: "E0009" }), person(3, { managerId: "E0001" }), person(4, { managerId: "" }), person(9, { managerId: "" })]);
    await t.engine.cycle();
    assert.equal(dir().E0002, "E0009");
  } finally {
    await t.close();
  }
});
