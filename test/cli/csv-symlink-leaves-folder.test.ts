// A path can look as if it stays in the configuration folder and still lead out of it: a symbolic
// link committed next to the YAML (git keeps them). Before the CSV connector opens or creates
// anything it follows the links; one that leads out of the folder fails the run, and nothing
// outside is read or written.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import yaml from "js-yaml";
import type { ConfigSet } from "../../src/config/model.ts";
import { testDatabase } from "../harness/postgres.ts";
import { openDatabase } from "../../src/store/index.ts";
import { idsync } from "../engine/cli-process.ts";
import { directoryAgent, directoryOutbound, hrAgent, hrInbound, HR_COLUMNS, person, retention, writeCsv } from "../engine/builders.ts";

function writeConfig(dir: string): void {
  const directory = directoryAgent(dir);
  directory.spec.connector.csv!.path = "out/directory.csv";
  const config: ConfigSet = { managementAgents: [hrAgent(dir, {}, "hr", "data/hr.csv"), directory], syncRules: [hrInbound()], retentionPolicies: [retention(["hr"])] };
  config.syncRules.push(directoryOutbound());
  const docs = [...config.managementAgents, ...config.syncRules, ...config.retentionPolicies].map(({ apiVersion, kind, metadata, spec }) => ({ apiVersion, kind, metadata, spec }));
  writeFileSync(join(dir, "config.yaml"), docs.map((d) => yaml.dump(d)).join("---\n"));
}

test("a source that is a symbolic link out of the configuration folder is not read", async (t) => {
  const base = mkdtempSync(join(tmpdir(), "idsync-symlink-"));
  const pg = await testDatabase("symlink_source");
  t.after(async () => {
    await pg.drop();
    rmSync(base, { recursive: true, force: true });
  });
  const conf = join(base, "conf");
  mkdirSync(join(conf, "data"), { recursive: true });
  mkdirSync(join(conf, "out"));
  writeConfig(conf);
  const secret = join(base, "secret-data.csv");
  writeCsv(secret, HR_COLUMNS, [person(1, { givenName: "Secret" })]);
  symlinkSync(secret, join(conf, "data", "hr.csv"));

  const r = await idsync(["--database", pg.url, "cycle", "-f", conf]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /! hr full-import: .*hr\.csv leads \(through a symbolic link\) to .*secret-data\.csv, which is outside .*conf, the folder it must stay in/);
  const db = await openDatabase({ url: pg.url });
  try {
    const staged = await db.query<{ n: number }>(`select count(*)::int as n from cs_object`);
    assert.equal(staged.rows[0].n, 0, "nothing was read from the file the link points at");
  } finally {
    await db.close();
  }
});

test("a target folder that is a symbolic link out of the configuration folder is not written", async (t) => {
  const base = mkdtempSync(join(tmpdir(), "idsync-symlink-"));
  const pg = await testDatabase("symlink_target");
  t.after(async () => {
    await pg.drop();
    rmSync(base, { recursive: true, force: true });
  });
  const conf = join(base, "conf");
  const elsewhere = join(base, "elsewhere");
  mkdirSync(join(conf, "data"), { recursive: true });
  mkdirSync(elsewhere);
  writeConfig(conf);
  writeCsv(join(conf, "data", "hr.csv"), HR_COLUMNS, [1, 2].map((n) => person(n)));
  symlinkSync(elsewhere, join(conf, "out"));

  const r = await idsync(["--database", pg.url, "cycle", "-f", conf]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /! directory export: .*directory\.csv leads \(through a symbolic link\) to .*elsewhere.*outside/);
  assert.deepEqual(readdirSync(elsewhere), [], "no file, not even a temporary one, was created through the link");
  assert.ok(!existsSync(join(conf, "directory.csv")));
});
