// One bad value fails one object, not the run: a NUL character (which PostgreSQL cannot store) in
// one CSV cell is that row's error, named by file, line and column; the other rows import, and the
// object the row stands for stays as it was (it is not deleted either).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("a NUL in one cell is an error of that row; the rest imports", async () => {
  const t = await openTestEngine();
  try {
    const people = [1, 2, 3, 4, 5].map((n) => person(n));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir));
    assert.equal((await t.engine.cycle()).status, "success");

    t.writeHr([
      ...people.map((p) =>
        p.employeeId === "E0003" ? { ...p, sn: "Bad\u0000Name" } : p.employeeId === "E0004" ? { ...p, department: "Legal" } : p,
      ),
      person(6, { givenName: "Nul\u0000" }),
      person(7),
    ]);
    const r = await t.engine.cycle();
    const imp = r.runs.find((x) => x.ma === "hr" && x.profile.endsWith("import"))!;
    assert.equal(imp.status, "completed-with-errors", imp.message);
    const errors = imp.errors.map((e) => [e.anchor, e.code, e.message]);
    assert.equal(errors.length, 2, JSON.stringify(errors));
    const file = join(t.dir, "hr.csv");
    assert.deepEqual(errors.map(([a, c]) => [a, c]).sort(), [["E0003", "invalid-value"], ["E0006", "invalid-value"]]);
    assert.ok(imp.errors.some((e) => e.anchor === "E0003" && e.message.includes("line 4") && e.message.includes("'sn'") && e.message.includes("NUL") && e.message.includes(file)));
    assert.ok(imp.errors.some((e) => e.anchor === "E0006" && e.message.includes("line 7") && e.message.includes("'givenName'")));

    const dir = new Map(t.readDirectory().map((d) => [d.employeeId, d]));
    assert.equal(dir.get("E0004")?.department, "Legal", "the other changes went through");
    assert.ok(dir.has("E0007"), "and the other new people");
    assert.equal(dir.get("E0003")?.displayName, "Given3 Family3", "the bad row's object stays as it was");
    assert.ok(!dir.has("E0006"));
    const mv = (await t.db.query<{ deleted_at: string | null }>(`select deleted_at from mv_object where attrs->>'employeeId' = 'E0003'`)).rows;
    assert.equal(mv[0].deleted_at, null, "not deleted either");
  } finally {
    await t.close();
  }
});
