// The work queue's contract (client-go's workqueue): dedup of waiting keys, one worker per key at a
// time with re-queue of keys added meanwhile, per-key exponential back-off, shutdown and drain.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ExponentialRateLimiter, runWorkers, WorkQueue } from "../../src/operator/queue.ts";

describe("work queue", () => {
  it("holds a waiting key once however often it is added", async () => {
    const depths: number[] = [];
    const q = new WorkQueue({ onDepth: (d) => depths.push(d) });
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), "b");
    assert.equal(depths.at(-1), 0);
  });

  it("never hands a key to two workers; a key added while processed comes back after done()", async () => {
    const q = new WorkQueue();
    q.add("a");
    const key = await q.get();
    q.add("a"); // an event during processing
    assert.equal(q.len(), 0, "not handed out while in progress");
    let second: string | undefined;
    const waiting = q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    assert.equal(second, undefined);
    q.done(key!);
    await waiting;
    assert.equal(second, "a", "processed again after done(), with the latest state");
  });

  it("backs off per key exponentially and forgets on success", () => {
    const limiter = new ExponentialRateLimiter({ baseDelayMs: 10, maxDelayMs: 50 });
    assert.deepEqual([limiter.when("k"), limiter.when("k"), limiter.when("k"), limiter.when("k")], [10, 20, 40, 50]);
    assert.equal(limiter.when("other"), 10, "per key");
    limiter.forget("k");
    assert.equal(limiter.when("k"), 10);
  });

  it("retries a failing key until it succeeds, then stops handing out keys on shutdown", async () => {
    const q = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 4 });
    const attempts: string[] = [];
    const errors: number[] = [];
    q.add("flaky");
    const workers = runWorkers(
      q,
      2,
      async (key) => {
        attempts.push(key);
        if (attempts.length < 3) throw new Error("not yet");
        q.shutdown();
      },
      (_key, _e, retryInMs) => errors.push(retryInMs),
    );
    await workers;
    assert.deepEqual(attempts, ["flaky", "flaky", "flaky"]);
    assert.deepEqual(errors, [1, 2]);
    assert.equal(await q.get(), undefined, "a shut-down queue hands out nothing");
    q.add("late");
    assert.equal(q.len(), 0);
  });

  it("drain() waits for the key in progress", async () => {
    const q = new WorkQueue();
    q.add("a");
    const key = await q.get();
    let drained = false;
    const d = q.drain().then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(drained, false);
    q.done(key!);
    await d;
    assert.equal(drained, true);
  });
});
