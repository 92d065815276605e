// A run whose signal fires stops between batches, reports why, and the next run converges.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine, person, standardConfig } from "./fixture.ts";

test("a cancelled sync stops between batches and the next one finishes the job", async () => {
  const t = await openTestEngine({ batchSize: 10 });
  try {
    t.writeHr(Array.from({ length: 60 }, (_, i) => person(i + 1)));
    await t.engine.apply(standardConfig(t.dir));
    await t.engine.run("hr", "full-import");
    const controller = new AbortController();
    let batches = 0;
    const cancelled = await t.engine.run("hr", "full-sync", {
      signal: controller.signal,
      onProgress: () => {
        if (++batches === 2) controller.abort();
      },
    });
    assert.equal(cancelled.status, "failed");
    assert.match(cancelled.message ?? "", /cancelled between batches/);
    const linked = (await t.db.query<{ n: number }>(`select count(*) as n from cs_object where ma = 'hr' and mv_id is not null`)).rows[0].n;
    assert.ok(linked > 0 && linked < 60, `stopped part-way (${linked} linked)`);

    const resumed = await t.engine.cycle();
    assert.notEqual(resumed.status, "failed");
    assert.equal(t.readDirectory().length, 60);
  } finally {
    await t.close();
  }
});
