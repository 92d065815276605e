// A malformed CSV row is reported with its line number; the rest is imported and synced.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openTestEngine, standardConfig } from "./fixture.ts";

test("a malformed row is reported with its line and the rest is imported", async () => {
  const t = await openTestEngine();
  try {
    writeFileSync(
      join(t.dir, "hr.csv"),
      [
        "employeeId,givenName,sn,department,managerId,status,employeeType",
        "E0001,Ann,Lee,Sales,,active,employee",
        "E0002,Bob,Too,Many,Columns,,active,employee,extra",
        "E0003,Cy,Ok,Finance,E0001,active,employee",
        "E0004,Di,Fine,Sales,E0001,active,employee",
      ].join("\n") + "\n",
    );
    await t.engine.apply(standardConfig(t.dir));
    const cycle = await t.engine.cycle();
    const imp = cycle.runs.find((r) => r.ma === "hr" && r.profile.endsWith("import"))!;
    assert.equal(imp.counts.adds, 3);
    assert.equal(imp.counts.errors, 1);
    assert.match(imp.errors[0].message, /line 3/);
    assert.deepEqual(t.readDirectory().map((r) => r.employeeId), ["E0001", "E0003", "E0004"]);
    assert.equal(cycle.status, "completed-with-errors");
  } finally {
    await t.close();
  }
});
