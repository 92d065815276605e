// The quick start on the embedded default (PGlite under a data directory), through the real CLI:
// the first cycle provisions the directory, the second changes nothing and says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const bin = new URL("../../bin/idsync.js", import.meta.url).pathname;
const example = new URL("../../examples/quickstart/", import.meta.url).pathname;

async function idsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [bin, ...args], { env: { ...process.env, IDSYNC_DATABASE_URL: "" } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test("quick start: provisions once, then reports no changes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "idsync-quickstart-"));
  try {
    cpSync(example, join(dir, "quickstart"), { recursive: true, filter: (p) => !p.endsWith("directory.csv") });
    const config = join(dir, "quickstart");
    const dataDir = join(dir, "state");
    const first = await idsync(["--data-dir", dataDir, "cycle", "-f", config]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /hr .*projected/);
    const directory = readFileSync(join(config, "data", "directory.csv"), "utf8").trim().split("\n");
    const hr = readFileSync(join(config, "data", "hr.csv"), "utf8").trim().split("\n");
    const inScope = hr.filter((l) => /,(active|leave),(employee|contractor)$/.test(l)).length;
    assert.equal(directory.length - 1, inScope, "one account per active or on-leave person");
    assert.ok(directory.some((l) => l.includes(`"Seán O'Brien, Jr."`)), "comma and apostrophe survive");
    assert.ok(existsSync(join(dataDir, "PG_VERSION")), "state lives in the embedded database directory");

    const second = await idsync(["--data-dir", dataDir, "cycle", "-f", config]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /No changes: everything is in sync\./);

    const json = await idsync(["--data-dir", dataDir, "-o", "json", "cycle"]);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.changed, false);
    assert.equal(parsed.status, "success");

    const show = await idsync(["--data-dir", dataDir, "-o", "json", "show", "hr/E000042"]);
    const obj = JSON.parse(show.stdout);
    assert.equal(obj.metaverseObject.attrs.displayName, "Seán O'Brien, Jr.");
    assert.equal(obj.metaverseObject.lineage.displayName.ma, "hr");
    assert.deepEqual(obj.connectors.map((c: { ma: string }) => c.ma).sort(), ["directory", "hr"]);

    const bad = await idsync(["--data-dir", dataDir, "run", "nope", "full-import"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /management agent 'nope' is not applied/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
