// A run that failed because the database went away cannot record its failure either: RunRecorder
// then rethrows the run's own message (the database's error as its cause) instead of the error of
// the failed write, and gives up within a bounded time when the database does not answer at all.
import { describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { RunRecorder } from "../../src/engine/run.ts";
import { DatabaseUnavailableError, findDatabaseUnavailable, type Database } from "../../src/store/index.ts";

const ORIGINAL = "the database at postgres://idsync:****@db:5432/idsync closed the connection (connection terminated unexpectedly)";

/** A database that accepts the run's start, then fails every write the way `behaviour` says. */
function fakeDatabase(behaviour: "refused" | "silent" | "fine"): { db: Database; writes: string[] } {
  const writes: string[] = [];
  let started = false;
  const db = {
    kind: "postgres",
    description: "postgres://idsync:****@db:5432/idsync",
    async query(sql: string) {
      if (!started) {
        started = true;
        return { rows: [{ id: 7 }], rowCount: 1 };
      }
      writes.push(sql.trim().split(/\s+/)[0]);
      if (behaviour === "fine") return { rows: [], rowCount: 1 };
      if (behaviour === "silent") return new Promise(() => {});
      throw new DatabaseUnavailableError("unreachable", "the database at postgres://idsync:****@db:5432/idsync is unreachable (connection refused)", undefined);
    },
  } as unknown as Database;
  return { db, writes };
}

describe("RunRecorder.finish when the failure cannot be recorded", () => {
  it("rethrows the run's own error, the database's as its cause", async () => {
    const { db, writes } = fakeDatabase("refused");
    const run = await RunRecorder.start(db, "hr", "full-import", new Date());
    run.error({ anchor: "E1", code: "invalid", message: "an object error waiting to be written" });
    run.message = ORIGINAL;
    await assert.rejects(run.finish(new Date(), "failed"), (e: Error) => {
      assert.equal(e.message, ORIGINAL, "the first failure is the news");
      assert.match(findDatabaseUnavailable(e)!.message, /is unreachable \(connection refused\)/);
      return true;
    });
    assert.deepEqual(writes, ["insert"], "the pending object errors were the first write to fail");
  });

  it("gives up after 10 s when the database does not answer", async () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const { db } = fakeDatabase("silent");
      const run = await RunRecorder.start(db, "hr", "full-import", new Date());
      run.message = ORIGINAL;
      const finishing = run.finish(new Date(), "failed");
      let settled = false;
      finishing.catch(() => undefined).finally(() => (settled = true));
      await new Promise((r) => setImmediate(r));
      mock.timers.tick(9_999);
      await new Promise((r) => setImmediate(r));
      assert.equal(settled, false);
      mock.timers.tick(1);
      await assert.rejects(finishing, (e: Error) => {
        assert.equal(e.message, ORIGINAL);
        assert.equal(findDatabaseUnavailable(e)!.message, "the database at postgres://idsync:****@db:5432/idsync did not record the failed run within 10s");
        return true;
      });
    } finally {
      mock.timers.reset();
    }
  });

  it("records a failure as before when the database answers", async () => {
    const { db, writes } = fakeDatabase("fine");
    const run = await RunRecorder.start(db, "hr", "full-import", new Date());
    run.message = "secret hr/password not found";
    const result = await run.finish(new Date(), "failed");
    assert.equal(result.status, "failed");
    assert.equal(result.message, "secret hr/password not found");
    assert.deepEqual(writes, ["update"]);
  });
});
