// A crash at any point loses nothing: the cycle is killed (SIGKILL) at several moments, then run to
// the end; the result equals an uninterrupted run's, and a further cycle changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";
import { normalizedState } from "./state.ts";

const bin = new URL("../../bin/idsync.js", import.meta.url).pathname;
const example = new URL("../../examples/quickstart/", import.meta.url).pathname;

function cycle(url: string, dir: string, killAfterMs?: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, "--database", url, "cycle", "-f", dir], { stdio: process.env.DEBUG_TEST ? "inherit" : "ignore" });
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function copyExample(root: string): string {
  const dir = join(root, "quickstart");
  cpSync(example, dir, { recursive: true, filter: (p) => !p.endsWith("directory.csv") });
  return dir;
}

test("a cycle killed at any moment converges to the uninterrupted result", async () => {
  const root = mkdtempSync(join(tmpdir(), "idsync-crash-"));
  const refDb = await testDatabase("crash_ref");
  const crashDb = await testDatabase("crash");
  try {
    const refDir = copyExample(join(root, "ref"));
    assert.equal(await cycle(refDb.url, refDir), 0);

    const dir = copyExample(join(root, "crash"));
    // Kills land during start-up, import, sync and export (startup through tsx takes about a second).
    for (const ms of [900, 1400, 1900, 2400, 3000]) await cycle(crashDb.url, dir, ms);
    const finish = await cycle(crashDb.url, dir);
    assert.ok(finish === 0 || finish === 2, `the resumed cycle ends normally (exit ${finish})`);
    assert.equal(await cycle(crashDb.url, dir), 0, "and a further cycle is clean");

    assert.equal(readFileSync(join(dir, "data", "directory.csv"), "utf8"), readFileSync(join(refDir, "data", "directory.csv"), "utf8"));
    const a = await openDatabase({ url: refDb.url });
    const b = await openDatabase({ url: crashDb.url });
    try {
      assert.deepEqual(await normalizedState(b), await normalizedState(a));
    } finally {
      await a.close();
      await b.close();
    }
  } finally {
    await refDb.drop();
    await crashDb.drop();
    rmSync(root, { recursive: true, force: true });
  }
});
