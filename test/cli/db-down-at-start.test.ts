// The database is not there when a command starts: nothing listens (connection refused), or
// something accepts the connection and never answers (a frozen server, a black-holed port). Either
// way the CLI prints one clear line naming the database, exits 1, and does so quickly.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { assertOneClearLine, idsync, startOwnPostgres, withPassword } from "./db-trouble.ts";

const PASSWORD = "s3cret-pw";

describe("the database is down before the command starts", () => {
  it("nothing listens: 'unreachable (connection refused)' at once", async (t) => {
    const server = await startOwnPostgres();
    const url = withPassword(server.url, PASSWORD);
    await server.stop(); // its port is free now: connections are refused
    for (const args of [["history"], ["cycle"]]) {
      const r = await idsync(["--database", url, ...args]).done;
      const line = assertOneClearLine(assert, r, PASSWORD);
      assert.match(line, /^error: the database at postgres:\/\/postgres:\*{4}@127\.0\.0\.1:\d+\/postgres is unreachable \(connection refused\); nothing was lost — run the command again when it is back$/, line);
      assert.ok(r.ms < 15_000, `${args[0]} gave up after ${r.ms} ms`);
      t.diagnostic(`${args[0]} (${r.ms} ms): ${line}`);
    }
    // The URL from the environment is named the same way.
    const fromEnv = await idsync(["history"], { IDSYNC_DATABASE_URL: url }).done;
    assert.match(assertOneClearLine(assert, fromEnv, PASSWORD), /is unreachable \(connection refused\)/);
  });

  it("a server that never answers: 'did not answer within 1s (connect timeout)' after the connect timeout", async (t) => {
    // Accepts TCP connections and never says a word, like a frozen postmaster.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const url = `postgres://idsync:${PASSWORD}@127.0.0.1:${port}/idsync`;
    try {
      const byOption = await idsync(["--database", url, "--connect-timeout", "1s", "history"]).done;
      const line = assertOneClearLine(assert, byOption, PASSWORD);
      assert.equal(line, `error: the database at postgres://idsync:****@127.0.0.1:${port}/idsync did not answer within 1s (connect timeout); nothing was lost — run the command again when it is back`);
      assert.ok(byOption.ms < 15_000, `gave up after ${byOption.ms} ms`);
      t.diagnostic(`--connect-timeout 1s (${byOption.ms} ms): ${line}`);

      const byEnv = await idsync(["--database", url, "history"], { IDSYNC_CONNECT_TIMEOUT: "2s" }).done;
      assert.match(assertOneClearLine(assert, byEnv, PASSWORD), /did not answer within 2s \(connect timeout\)/);
      assert.ok(byEnv.ms >= 2_000 && byEnv.ms < 15_000, `IDSYNC_CONNECT_TIMEOUT=2s gave up after ${byEnv.ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("a timeout that is not a duration is a usage error", async () => {
    const r = await idsync(["--database", "postgres://idsync@127.0.0.1:1/idsync", "--statement-timeout", "soon", "history"]).done;
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), "--statement-timeout: 'soon' is not a duration (expected e.g. 30s, 15m, 12h, 30d, 2w or 1h30m)");
  });
});
