// A 10 MB CSV cell is an error of its object, not of the run and not a value: the row is refused
// (value-too-large, file and line), the other rows import, the object stays as it was in the
// metaverse and in the target, and nothing of the 10 MB reaches the exported file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("a 10 MB cell fails its object; the rest imports and exports", async () => {
  const t = await openTestEngine();
  try {
    const people = [1, 2, 3].map((n) => person(n));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir));
    assert.equal((await t.engine.cycle()).status, "success");

    const huge = "A".repeat(10 * 1024 * 1024);
    t.writeHr([person(1), person(2, { givenName: huge }), person(3, { department: "Legal" }), person(4, { sn: huge })]);
    const r = await t.engine.cycle();
    const imp = r.runs.find((x) => x.ma === "hr" && x.profile.endsWith("import"))!;
    assert.equal(imp.status, "completed-with-errors", imp.message);
    assert.deepEqual(imp.errors.map((e) => [e.anchor, e.code]).sort(), [["E0002", "value-too-large"], ["E0004", "value-too-large"]]);
    const e2 = imp.errors.find((e) => e.anchor === "E0002")!;
    assert.match(e2.message, /line 3: column 'givenName' holds 10 MiB; at most 64 KiB is allowed/);
    assert.ok(e2.message.includes(join(t.dir, "hr.csv")), "names the file");

    const dir = new Map(t.readDirectory().map((d) => [d.employeeId, d]));
    assert.equal(dir.get("E0002")?.displayName, "Given2 Family2", "the object stays as it was");
    assert.equal(dir.get("E0003")?.department, "Legal", "the other change went through");
    assert.ok(!dir.has("E0004"));
    assert.ok(statSync(join(t.dir, "directory.csv")).size < 10_000, "no huge value was exported");
    const mv = (await t.db.query<{ n: number }>(`select count(*)::int as n from mv_object where deleted_at is null`)).rows[0].n;
    assert.equal(mv, 3, "E0002 is neither updated nor deleted, E0004 not projected");
  } finally {
    await t.close();
  }
});
