// The database stops (an immediate shutdown, as in a crash or a failover) while `idsync cycle` is busy:
// the CLI prints one clear line naming the database (never its password, never a stack trace) and
// exits 1; once the server is back, the next cycle converges to what an uninterrupted run produces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/store/index.ts";
import { normalizedState } from "../engine/state.ts";
import { assertOneClearLine, idsync, quickstartCopy, startOwnPostgres, until, withPassword } from "./db-trouble.ts";

test("the database stopped in the middle of a cycle: one clear line, exit 1, and the next cycle converges", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "idsync-dbstop-"));
  const server = await startOwnPostgres();
  try {
    await server.query(`create role idsync login password 's3cret-pw' superuser`);
    await server.query(`create database reference owner idsync`);
    await server.query(`create database interrupted owner idsync`);
    const url = (db: string) => {
      const u = new URL(withPassword(server.url));
      u.username = "idsync";
      u.pathname = `/${db}`;
      return u.toString();
    };

    const refDir = quickstartCopy(join(root, "ref"));
    const reference = await idsync(["--database", url("reference"), "cycle", "-f", refDir]).done;
    assert.equal(reference.code, 0, reference.stderr);

    const dir = quickstartCopy(join(root, "interrupted"));
    const cli = idsync(["--database", url("interrupted"), "cycle", "-f", dir]);
    // Pull the plug while a run is in progress (its run_history row says 'running').
    await until(async () => {
      const rows = await server.query(`select 1 from run_history where status = 'running'`, [], "interrupted").catch(() => []);
      return rows.length > 0 ? true : undefined;
    }, "a run in progress", 60_000, 10).catch(async (e) => {
      cli.kill();
      throw e;
    });
    await server.halt();
    const failed = await cli.done;
    const line = assertOneClearLine(assert, failed, "s3cret-pw");
    assert.match(line, /^error: the database at postgres:\/\/idsync:\*{4}@127\.0\.0\.1:\d+\/interrupted /, line);
    assert.match(line, /nothing was lost/, line);
    t.diagnostic(`stderr: ${line}`);

    await server.resume();
    const resumed = await idsync(["--database", url("interrupted"), "cycle", "-f", dir]).done;
    assert.ok(resumed.code === 0 || resumed.code === 2, `the resumed cycle ends normally (exit ${resumed.code}): ${resumed.stderr}`);
    const again = await idsync(["--database", url("interrupted"), "cycle", "-f", dir]).done;
    assert.equal(again.code, 0, `and a further cycle is clean: ${again.stderr}`);

    assert.equal(readFileSync(join(dir, "data", "directory.csv"), "utf8"), readFileSync(join(refDir, "data", "directory.csv"), "utf8"));
    const a = await openDatabase({ url: url("reference") });
    const b = await openDatabase({ url: url("interrupted") });
    try {
      assert.deepEqual(await normalizedState(b), await normalizedState(a));
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
