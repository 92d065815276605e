// Exports are confirmed by the next import; an out-of-band edit in the target is drift that the
// next cycle detects and corrects; an export that did not land is reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("exports are confirmed, drift is corrected, lost exports are reported", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(2), person(3)]);
    await t.engine.apply(standardConfig(t.dir));
    const first = await t.engine.cycle();
    const confirm = first.runs.filter((r) => r.ma === "directory" && r.profile.endsWith("import")).at(-1)!;
    assert.equal(confirm.counts.confirmed, 3);
    assert.equal((await t.engine.status("directory")).pendingExports.unconfirmed, 0);

    // Someone edits the directory by hand: the engine puts the declared value back.
    const path = join(t.dir, "directory.csv");
    writeFileSync(path, readFileSync(path, "utf8").replace("Given2 Family2", "Hand Edited"));
    const fix = await t.engine.cycle();
    const exp = fix.runs.find((r) => r.ma === "directory" && r.profile === "export")!;
    assert.equal(exp.counts.updates, 1);
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0002")?.displayName, "Given2 Family2");

    // An export that does not land (the row vanishes right after export) is reported on the next import.
    t.writeHr([person(1), person(2, { sn: "Changed" }), person(3)]);
    await t.engine.run("hr", "delta-import");
    await t.engine.run("hr", "delta-sync");
    await t.engine.run("directory", "export");
    writeFileSync(path, readFileSync(path, "utf8").replace("Given2 Changed", "Given2 Family2"));
    const imp = await t.engine.run("directory", "delta-import");
    assert.ok(imp.errors.some((e) => e.code === "exported-change-not-reimported" && e.anchor === "E0002"));
    // …and the next sync and export put it right.
    await t.engine.cycle();
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0002")?.displayName, "Given2 Changed");
  } finally {
    await t.close();
  }
});
