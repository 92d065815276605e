// The run queue over a real engine: engine calls one at a time in submission order, identical
// waiting run requests coalesced into one run, a per-MA cycle, and stop() that refuses new work
// and waits for the task in flight.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RunQueue, StoppedError } from "../../src/operator/runqueue.ts";
import type { RunResult } from "../../src/engine/types.ts";
import { openTestEngine, person, standardConfig, type TestEngine } from "../engine/fixture.ts";

describe("run queue", () => {
  let t: TestEngine;
  before(async () => {
    t = await openTestEngine();
    t.writeHr([person(1), person(2)]);
    await t.engine.apply(standardConfig(t.dir));
  });
  after(() => t?.close());

  it("runs one task at a time, coalesces identical waiting runs, and stops cleanly", async () => {
    const finished: RunResult[] = [];
    const q = new RunQueue({ engine: t.engine, onRunFinished: (r) => void finished.push(r) });
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const order: string[] = [];
    const blocker = q.submit("blocker", async () => {
      order.push("blocker start");
      await gate;
      order.push("blocker end");
    });

    const a = q.requestRun({ ma: "hr", profile: "full-import", reason: "test" });
    const b = q.requestRun({ ma: "hr", profile: "full-import", reason: "again" });
    assert.strictEqual(a, b, "the second identical request joins the first");
    const cycle = q.requestRun({ ma: "hr", profile: "cycle", reason: "test" });
    assert.deepEqual(q.activity("hr").queued, ["full-import", "cycle"]);
    assert.equal(finished.length, 0, "nothing ran past the blocker");

    open();
    await blocker;
    const [imported] = await a;
    assert.equal(imported.profile, "full-import");
    assert.equal(imported.counts.adds, 2);
    const steps = await cycle;
    assert.deepEqual(steps.map((r) => r.profile), ["delta-import", "delta-sync"], "a cycle: import then sync (nothing to export from hr)");
    assert.deepEqual(finished.map((r) => r.profile), ["full-import", "delta-import", "delta-sync"]);
    assert.deepEqual(order, ["blocker start", "blocker end"]);

    // stop(): the task in flight finishes, waiting ones are refused.
    const inFlight = q.requestRun({ ma: "directory", profile: "full-import", reason: "test" });
    const waiting = q.requestRun({ ma: "directory", profile: "full-sync", reason: "test" });
    await q.stop();
    assert.equal((await inFlight)[0].status, "success");
    await assert.rejects(waiting, StoppedError);
    await assert.rejects(q.submit("late", async () => 1), StoppedError);
  });
});
