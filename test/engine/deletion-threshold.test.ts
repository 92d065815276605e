// The deletion threshold blocks a mass delete before the first delete is sent; --allow-deletes
// releases it once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("the deletion threshold blocks a mass delete until released once", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 40 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply(standardConfig(t.dir, { threshold: { maxDeletes: 5 } }));
    await t.engine.cycle();
    assert.equal(t.readDirectory().length, 40);

    // An HR export that lost half its rows: the import holds them (issue 9, test/engine/
    // import-deletion-guard.test.ts); somebody decides they really left and releases the import.
    t.writeHr(people.slice(0, 20));
    const imported = await t.engine.run("hr", "delta-import", { allowDeletes: true });
    assert.equal(imported.counts.deletes, 20);
    const blocked = await t.engine.cycle();
    const exp = blocked.runs.find((r) => r.ma === "directory" && r.profile === "export")!;
    assert.equal(exp.status, "stopped-deletion-threshold");
    assert.equal(exp.blockedDeletes, 20);
    assert.match(exp.message ?? "", /maxDeletes 5/);
    assert.equal(t.readDirectory().length, 40, "not one delete was sent");
    assert.equal(blocked.status, "stopped-deletion-threshold");
    const status = await t.engine.status("directory");
    assert.equal(status.pendingExports.deletes, 20);
    assert.equal(status.blockedDeletes, 20);

    // Still blocked on the next cycle…
    const again = await t.engine.cycle();
    assert.equal(again.status, "stopped-deletion-threshold");
    assert.equal(t.readDirectory().length, 40);
    // …until an operator releases it once.
    const released = await t.engine.cycle({ allowDeletes: true });
    assert.equal(released.status, "success");
    assert.equal(t.readDirectory().length, 20);
    assert.equal((await t.engine.status("directory")).blockedDeletes, 0);
  } finally {
    await t.close();
  }
});
