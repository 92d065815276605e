// Delta import without DirSync: deltaMode usn reads objects whose uSNChanged passed the watermark
// and, with the Show Deleted control, the tombstones in CN=Deleted Objects. An account without
// the replication right cannot use DirSync: in deltaMode auto the connector falls back to usn.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { loadConfigDirectory } from "../../src/config/index.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE, describeRuns, guidOf, PEOPLE, startAdExample, type AdExample } from "./helpers.ts";

let ex: AdExample;
before(async () => {
  ex = await startAdExample({ people: 12, edit: (file, text) => (file === "directory.yaml" ? text.replace("# deltaMode: auto", "deltaMode: usn") : text) });
  const first = await ex.cycle();
  assert.equal(first.status, "success", describeRuns(first));
});
after(async () => {
  await ex?.close();
});

async function watermark(): Promise<string> {
  const r = await ex.engine.database.query<{ value: string }>(`select value from watermark where ma = 'directory'`);
  return r.rows[0]?.value ?? "";
}

async function isDeleted(anchor: string): Promise<boolean | undefined> {
  const r = await ex.engine.database.query<{ deleted: boolean }>(`select deleted from cs_object where ma = 'directory' and anchor = $1`, [anchor]);
  return r.rows[0]?.deleted;
}

test("deltaMode usn: the watermark is a USN, and a change and a deletion are seen", async () => {
  assert.match(await watermark(), /^usn:\d+$/);
  const [changed, deleted] = await ex.search(PEOPLE, "(objectClass=user)", ["1.1"]);
  const deletedGuid = await guidOf(ex, deleted.dn);
  await ex.dc.ldapmodify([`dn: ${changed.dn}`, "changetype: modify", "replace: title", "title: Changed in AD", "", `dn: ${deleted.dn}`, "changetype: delete", ""].join("\n"));
  const result = await ex.engine.run("directory", "delta-import");
  assert.equal(result.status, "success", JSON.stringify(result));
  assert.equal(result.counts.updates, 1, JSON.stringify(result.counts));
  assert.equal(result.counts.deletes, 1, JSON.stringify(result.counts));
  assert.equal(await isDeleted(deletedGuid), true);
});

test("deltaMode auto with an account that lacks the replication right falls back to usn", async () => {
  // A plain domain user: it may read the directory, not replicate it.
  const password = "Reader!Passw0rd-2026";
  await ex.dc.ldapmodify(
    [
      `dn: CN=idsync reader,CN=Users,${BASE}`,
      "changetype: add",
      "objectClass: user",
      "sAMAccountName: idsync-reader",
      `unicodePwd:: ${Buffer.from(`"${password}"`, "utf16le").toString("base64")}`,
      "userAccountControl: 512",
      "",
    ].join("\n"),
  );
  ex.secrets.set("reader/password", password);
  const path = join(ex.config, "directory.yaml");
  writeFileSync(
    path,
    readFileSync(path, "utf8")
      .replace("deltaMode: usn", "deltaMode: auto")
      .replace("bindDN: Administrator@sync.test", "bindDN: idsync-reader@sync.test")
      .replace("passwordSecretRef: {name: ad-bind, key: password}", "passwordSecretRef: {name: reader, key: password}"),
  );
  const loaded = await loadConfigDirectory(ex.config);
  assert.ok(loaded.config, JSON.stringify(loaded.errors));
  await ex.engine.apply(loaded.config!);

  const [changed] = await ex.search(PEOPLE, "(objectClass=user)", ["1.1"]);
  await ex.dc.ldapmodify([`dn: ${changed.dn}`, "changetype: modify", "replace: title", "title: Changed again", ""].join("\n"));
  const result = await ex.engine.run("directory", "delta-import");
  assert.equal(result.status, "success", JSON.stringify(result));
  assert.equal(result.counts.updates, 1, JSON.stringify(result.counts));
  assert.match(await watermark(), /^usn:\d+$/, "still a USN: DirSync was refused");
});
