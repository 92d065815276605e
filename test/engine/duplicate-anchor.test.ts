// Duplicate anchors are ambiguous, not first-wins: two rows for one employee ID are both held as
// errors and the existing object is left unchanged (nothing exported from either row) until the
// source is fixed; a new anchor on two rows imports neither.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("two rows with one anchor hold both and change nothing", async () => {
  const t = await openTestEngine({ batchSize: 3 });
  try {
    // Far apart in the file: in different batches of the import.
    const people = Array.from({ length: 12 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir));
    assert.equal((await t.engine.cycle()).status, "success");

    const impostor = { ...person(2), givenName: "Impostor", sn: "Schmidt" };
    const twin = person(20);
    t.writeHr([twin, ...people, impostor, { ...twin, department: "Legal" }]);
    const r = await t.engine.cycle();
    const imp = r.runs.find((x) => x.ma === "hr" && x.profile.endsWith("import"))!;
    assert.equal(imp.status, "completed-with-errors");
    const dup = imp.errors.filter((e) => e.code === "duplicate-anchor");
    assert.deepEqual(dup.map((e) => e.anchor).sort(), ["E0002", "E0002", "E0020", "E0020"], "every row of an ambiguous anchor is an error");
    assert.ok(dup.some((e) => e.anchor === "E0002" && /line 4: anchor 'E0002' is also on line 15: ambiguous/.test(e.message)));

    const dir = new Map(t.readDirectory().map((d) => [d.employeeId, d]));
    assert.equal(dir.get("E0002")?.displayName, "Given2 Family2", "the existing object is unchanged");
    assert.ok(!dir.has("E0020"), "a new ambiguous anchor is not imported");
    assert.equal(dir.size, 12, "and nothing is deleted");
    assert.equal((await t.engine.cycle()).status, "completed-with-errors", "still held while the file is wrong");

    t.writeHr([...people.filter((p) => p.employeeId !== "E0002"), impostor, twin]);
    assert.equal((await t.engine.cycle()).status, "success");
    const fixed = new Map(t.readDirectory().map((d) => [d.employeeId, d]));
    assert.equal(fixed.get("E0002")?.displayName, "Impostor Schmidt", "once the file says which, it flows");
    assert.ok(fixed.has("E0020"));
  } finally {
    await t.close();
  }
});
