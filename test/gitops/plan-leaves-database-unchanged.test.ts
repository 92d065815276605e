// A plan simulates apply + full sync inside a transaction that is rolled back: every table's rows are
// the same afterwards (run history included), though the plan did find real changes to report —
// on a PostgreSQL server and on the embedded PGlite alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { plan } from "../../src/gitops/index.ts";
import { rowChecksums, salesLeaveAndDisplayNameChanges, syncedQuickstart } from "./helpers.ts";

for (const embedded of [false, true]) {
  test(`plan changes nothing in the database, not even run history (${embedded ? "embedded PGlite" : "PostgreSQL"})`, async () => {
    const s = await syncedQuickstart({ embedded });
    try {
      s.edit("rules.yaml", salesLeaveAndDisplayNameChanges);
      const before = await rowChecksums(s.db);
      assert.ok(Number(before.run_history.split(":")[0]) > 0, "the set-up wrote run history");

      const report = await plan({ database: s.db, proposed: await s.config(), configuration: s.dir });
      const directory = report.data.managementAgents.find((m) => m.name === "directory");
      assert.ok(directory && directory.updates > 0 && directory.deletes > 0, "the simulation did update and delete");
      assert.deepEqual(report.data.simulated.map((r) => r.ma), ["hr", "directory"]);

      assert.deepEqual(await rowChecksums(s.db), before);
      // The engine still runs on the old configuration: a cycle finds nothing to do.
      const cycle = await s.engine.cycle();
      assert.equal(cycle.changed, false);
      // And a second plan sees the same (the first left nothing behind that it would count).
      const again = await plan({ database: s.db, proposed: await s.config(), configuration: s.dir });
      assert.deepEqual(again.data, report.data);
    } finally {
      await s.close();
    }
  });
}
