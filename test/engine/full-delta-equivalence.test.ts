// Full sync and delta sync reach the same state after the same source changes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig, type TestEngine } from "./fixture.ts";
import { normalizedState } from "./state.ts";

const initial = Array.from({ length: 60 }, (_, i) => person(i + 1));
const changed = [
  ...initial
    .filter((p) => p.employeeId !== "E0007") // removed from HR
    .map((p) =>
      p.employeeId === "E0003" ? { ...p, sn: "Renamed" } : p.employeeId === "E0009" ? { ...p, status: "leaver" } : p.employeeId === "E0010" ? { ...p, managerId: "E0002" } : p,
    ),
  person(61, { managerId: "E0060" }),
];

async function converge(t: TestEngine, mode: "full" | "delta"): Promise<void> {
  const profile = mode === "full" ? { import: "full-import", sync: "full-sync" } : { import: "delta-import", sync: "delta-sync" };
  for (let pass = 0; pass < 4; pass++) {
    await t.engine.run("hr", profile.import as "full-import");
    await t.engine.run("directory", profile.import as "full-import");
    await t.engine.run("hr", profile.sync as "full-sync");
    await t.engine.run("directory", profile.sync as "full-sync");
    await t.engine.run("directory", "export", { allowDeletes: true });
  }
}

test("full and delta sync converge to the same state", async () => {
  const a = await openTestEngine();
  const b = await openTestEngine();
  try {
    for (const t of [a, b]) {
      t.writeHr(initial);
      await t.engine.apply(standardConfig(t.dir));
      await t.engine.cycle();
      t.writeHr(changed);
    }
    await converge(a, "full");
    await converge(b, "delta");
    const sa = await normalizedState(a.db);
    const sb = await normalizedState(b.db);
    assert.deepEqual(sb, sa);
    assert.deepEqual(b.readDirectory(), a.readDirectory());
    // and the changes really happened
    const dir = a.readDirectory();
    assert.equal(dir.find((r) => r.employeeId === "E0003")?.displayName, "Given3 Renamed");
    assert.equal(dir.find((r) => r.employeeId === "E0007"), undefined);
    assert.equal(dir.find((r) => r.employeeId === "E0009"), undefined);
    assert.equal(dir.find((r) => r.employeeId === "E0010")?.manager, "E0002");
    assert.equal(dir.find((r) => r.employeeId === "E0061")?.manager, "E0060");
  } finally {
    await a.close();
    await b.close();
  }
});
