// The database stalls (its processes frozen with SIGSTOP, like a hung VM or a network partition:
// nothing ever answers, not even the server-side statement_timeout) while `idsync cycle` is busy,
// its backends found in pg_stat_activity by application_name idsync/<pid>: the CLI
// gives up within a bounded time with one clear "did not answer" line and exit code 1, instead of
// hanging silently. Once the server thaws, the next cycle works.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertOneClearLine, childrenOf, idsync, quickstartCopy, startOwnPostgres, until, withPassword } from "./db-trouble.ts";

test("a stalled database: the CLI gives up within a bounded time with one clear line, exit 1", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "idsync-dbstall-"));
  const server = await startOwnPostgres();
  const frozen: number[] = [];
  const thaw = () => {
    for (const pid of frozen.splice(0)) {
      try {
        process.kill(pid, "SIGCONT");
      } catch {
        /* gone */
      }
    }
  };
  try {
    await server.query(`create database stalled`);
    const u = new URL(withPassword(server.url));
    u.pathname = "/stalled";
    const url = u.toString();
    const dir = quickstartCopy(root);

    const cli = idsync(["--database", url, "--statement-timeout", "2s", "--connect-timeout", "3s", "cycle", "-f", dir]);
    // The CLI's connections carry application_name idsync/<pid>: find its backends while a run is busy.
    const backends = await until(async () => {
      const running = await server.query(`select 1 from run_history where status = 'running'`, [], "stalled");
      if (running.length === 0) return undefined;
      const rows = await server.query<{ pid: number }>(`select pid from pg_stat_activity where application_name = $1`, [`idsync/${cli.pid}`]);
      return rows.length > 0 ? rows.map((r) => r.pid) : undefined;
    }, "the CLI's backends during a run", 60_000, 10).catch((e) => {
      cli.kill();
      throw e;
    });
    // The whole server freezes: the postmaster first (no fresh backend answers the CLI's next
    // connection), then every process it forked, the CLI's backends among them.
    const postmaster = server.postmasterPid();
    process.kill(postmaster, "SIGSTOP");
    frozen.push(postmaster);
    const children = childrenOf(postmaster);
    for (const pid of children) {
      process.kill(pid, "SIGSTOP");
      frozen.push(pid);
    }
    assert.ok(backends.every((b) => children.includes(b)), "the CLI's backends are frozen");
    const frozenAt = Date.now();
    const result = await Promise.race([
      cli.done,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the CLI still hangs 60 s after the database stalled")), 60_000).unref()),
    ]).catch((e) => {
      cli.kill();
      throw e;
    });
    const waited = Date.now() - frozenAt;
    thaw();
    const line = assertOneClearLine(assert, result, "s3cret-pw");
    assert.match(line, /^error: the database at postgres:\/\/postgres:\*{4}@127\.0\.0\.1:\d+\/stalled did not answer within \d+s /, line);
    assert.match(line, /nothing was lost/, line);
    t.diagnostic(`stderr after ${waited} ms: ${line}`);
    // Query timeout (2 s + margin), recording the failure (bounded), closing the pool (bounded).
    assert.ok(waited < 30_000, `gave up after ${waited} ms`);

    const next = await idsync(["--database", url, "cycle", "-f", dir]).done;
    assert.ok(next.code === 0 || next.code === 2, `after the thaw the next cycle works (exit ${next.code}): ${next.stderr}`);
  } finally {
    thaw();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
