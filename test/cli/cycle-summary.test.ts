// The summary never lies: "No changes: everything is in sync." only after a cycle in which every
// run succeeded and nothing changed. A failed run (a vanished file, invalid UTF-8, a directory that
// is down) or objects with errors say so, and an object that fails in every pass counts once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import type { ConfigSet } from "../../src/config/model.ts";
import { testDatabase } from "../harness/postgres.ts";
import { idsync } from "../engine/cli-process.ts";
import { directoryAgent, directoryOutbound, hrAgent, hrInbound, HR_COLUMNS, person, retention, writeCsv } from "../engine/builders.ts";

function writeConfig(dir: string, config: ConfigSet): void {
  const docs = [...config.managementAgents, ...config.syncRules, ...config.retentionPolicies].map(({ apiVersion, kind, metadata, spec }) => ({ apiVersion, kind, metadata, spec }));
  writeFileSync(join(dir, "config.yaml"), docs.map((d) => yaml.dump(d)).join("---\n"));
}

test("the cycle summary says what failed, and counts each failing object once", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "idsync-summary-"));
  const pg = await testDatabase("summary");
  t.after(async () => {
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const directory = directoryAgent(dir);
  directory.spec.objectTypes[0].attributes.push({ name: "groups", multiValued: true });
  const outbound = directoryOutbound();
  // E00X9's group holds the multi-value separator, which the CSV target cannot write: its export
  // fails in every pass, while the others' go through.
  outbound.spec.attributeFlows!.push({ target: "groups", expression: '[mv.department + (mv.employeeId == "E00X9" ? ";x" : "")]' });
  const config: ConfigSet = { managementAgents: [hrAgent(dir), directory], syncRules: [hrInbound(), outbound], retentionPolicies: [retention(["hr"])] };
  writeConfig(dir, config);
  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [...[1, 2, 3, 4].map((n) => person(n)), person(9, { employeeId: "E00X9" })]);
  const cycle = () => idsync(["--database", pg.url, "cycle", "-f", dir]);

  await t.test("an export error met in two passes is one failing object", async () => {
    const r = await cycle();
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /Cycle finished in 2 pass\(es\): completed-with-errors/, "the failed export was retried in the second pass");
    assert.match(r.stdout, /^directory .* 1$/m, "the errors column counts the object once");
    assert.match(r.stdout, /Object errors \(1; all are in `idsync history`\):\n {2}directory\/E00X9: /);
    assert.match(r.stdout, /Not in sync: 1 object\(s\) have errors \(directory: 1\)\./);
    assert.doesNotMatch(r.stdout, /No changes/);
  });

  await t.test("nothing changed but an error remains: not in sync", async () => {
    const r = await cycle();
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stdout, /No changes/);
    assert.match(r.stdout, /Not in sync: 1 object\(s\) have errors/);
  });

  await t.test("a vanished source file fails the cycle and says so", async () => {
    rmSync(join(dir, "hr.csv"));
    const r = await cycle();
    assert.equal(r.code, 1);
    assert.match(r.stdout, /! hr delta-import: .*hr\.csv: the file does not exist/);
    assert.match(r.stdout, /Not in sync: 1 run\(s\) failed \(hr delta-import\)/);
    assert.doesNotMatch(r.stdout, /No changes/);
  });

  await t.test("invalid UTF-8 fails the cycle and says so", async () => {
    writeFileSync(join(dir, "hr.csv"), Buffer.concat([Buffer.from(HR_COLUMNS.join(",") + "\nE0001,Ren"), Buffer.from([0xe9]), Buffer.from(",x,Sales,,active,employee\n")]));
    const r = await cycle();
    assert.equal(r.code, 1);
    assert.match(r.stdout, /not valid UTF-8/);
    assert.match(r.stdout, /Not in sync: 1 run\(s\) failed/);
    assert.doesNotMatch(r.stdout, /No changes/);
  });

  await t.test("a directory that is down fails the cycle and says so", async () => {
    writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [...[1, 2, 3, 4].map((n) => person(n)), person(9, { employeeId: "E00X9" })]);
    const ldap = hrAgent(dir, {}, "ldap");
    ldap.spec.connector = { type: "ldap", ldap: { url: "ldap://127.0.0.1:1", bindDN: "cn=x", passwordSecretRef: { name: "ldap", key: "password" }, baseDN: "dc=example,dc=org", allowInsecureBind: true } };
    ldap.spec.objectTypes = [{ name: "person", anchor: ["entryUUID"], objectClasses: ["inetOrgPerson"], attributes: [{ name: "entryUUID" }, { name: "uid" }] }];
    writeConfig(dir, { ...config, managementAgents: [...config.managementAgents, ldap] });
    const r = await idsync(["--database", pg.url, "cycle", "-f", dir], { env: { IDSYNC_SECRET_LDAP_PASSWORD: "x" } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /Not in sync: 1 run\(s\) failed \(ldap full-import\)/);
    assert.doesNotMatch(r.stdout, /No changes/);
  });
});
