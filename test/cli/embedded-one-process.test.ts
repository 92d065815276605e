// The embedded database admits one process at a time: PGlite has no server to refuse a second
// one, and two processes writing one data directory corrupt it. A second process says who holds
// it (or waits with --lock-wait); a holder that died (kill -9) leaves a lock that the next one takes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { copyQuickstart, idsync } from "../engine/cli-process.ts";

const env = { IDSYNC_DATABASE_URL: "" };

test("one process at a time on an embedded database", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "idsync-embedded-lock-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const config = copyQuickstart(root);
  const dataDir = join(root, "state");
  const lockFile = join(dataDir, "idsync.lock");

  await t.test("a second process stops at once and names the first", async () => {
    const first = idsync(["--data-dir", dataDir, "cycle", "-f", config], { env });
    for (let i = 0; i < 400 && !existsSync(lockFile); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(existsSync(lockFile), "the first holds the directory");
    const second = await idsync(["--data-dir", dataDir, "history"], { env });
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`^error: the embedded database in ${dataDir} is in use by idsync \\(pid \\d+ on ${hostname()}\\) since \\d{4}-`));
    const done = await first;
    assert.equal(done.code, 0, done.stderr);
    assert.ok(!existsSync(lockFile), "released on exit");
  });

  await t.test("with --lock-wait, it waits for the first", async () => {
    const first = idsync(["--data-dir", dataDir, "cycle", "-f", config], { env });
    for (let i = 0; i < 400 && !existsSync(lockFile); i++) await new Promise((r) => setTimeout(r, 25));
    const second = await idsync(["--data-dir", dataDir, "--lock-wait", "2m", "cycle", "-f", config], { env });
    assert.equal((await first).code, 0);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /No changes: everything is in sync\./);
  });

  await t.test("the lock of a process that died is taken over", async () => {
    // A pid that surely belongs to no live process: one that just ended.
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    writeFileSync(lockFile, JSON.stringify({ pid: Number(gone), host: hostname(), since: "2026-01-01T00:00:00.000Z" }) + "\n");
    const next = await idsync(["--data-dir", dataDir, "cycle", "-f", config], { env });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /No changes: everything is in sync\./);
    assert.ok(!existsSync(lockFile));
  });
});
