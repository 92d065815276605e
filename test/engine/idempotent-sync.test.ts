// A sync is idempotent: once converged, a second full sync (and a second cycle) changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";
import { normalizedState } from "./state.ts";

test("a second full sync changes nothing", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr(Array.from({ length: 120 }, (_, i) => person(i + 1)));
    await t.engine.apply(standardConfig(t.dir));
    const first = await t.engine.cycle();
    assert.equal(first.status, "success");
    assert.ok(first.changed);
    assert.equal(t.readDirectory().length, 120);
    const before = await normalizedState(t.db);

    const again = await t.engine.run("hr", "full-sync");
    const c = again.counts;
    assert.deepEqual(
      [c.projections, c.joins, c.updates, c.deletes, c.provisions, c.deprovisions, c.disconnects, c.errors],
      [0, 0, 0, 0, 0, 0, 0, 0],
    );
    const dirSync = await t.engine.run("directory", "full-sync");
    assert.equal(dirSync.counts.provisions + dirSync.counts.updates + dirSync.counts.deprovisions, 0);
    assert.deepEqual(await normalizedState(t.db), before);
    assert.deepEqual(before.pendingExports, {}, "every export was confirmed by the next import");

    const cycle = await t.engine.cycle();
    assert.equal(cycle.changed, false, "a converged cycle reports no change");
  } finally {
    await t.close();
  }
});
