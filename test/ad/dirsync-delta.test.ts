// A delta import from AD with DirSync: the cookie is the watermark; a change made in the directory
// comes back as an update of the whole object, a deletion as a tombstone (isDeleted) and so a
// delete; a move out of the containers is a delete too. An object outside the containers never
// counts. Checked after each step with the engine's connector space.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { BASE, describeRuns, guidOf, PEOPLE, startAdExample, type AdExample } from "./helpers.ts";

let ex: AdExample;
before(async () => {
  ex = await startAdExample({ people: 20 });
  const first = await ex.cycle();
  assert.equal(first.status, "success", describeRuns(first));
});
after(async () => {
  await ex?.close();
});

async function watermark(): Promise<string | undefined> {
  const r = await ex.engine.database.query<{ value: string }>(`select value from watermark where ma = 'directory'`);
  return r.rows[0]?.value;
}

async function csObject(anchor: string) {
  const r = await ex.engine.database.query<{ dn: string; deleted: boolean; attrs: Record<string, unknown> }>(
    `select dn, deleted, attrs from cs_object where ma = 'directory' and anchor = $1`,
    [anchor],
  );
  return r.rows[0];
}

test("the watermark is a DirSync cookie", async () => {
  assert.match((await watermark()) ?? "", /^dirsync:[A-Za-z0-9+/=]{20,}$/);
});

test("a changed attribute, a deleted user and a user moved out of the containers", async () => {
  const [changed, deleted, moved] = await ex.search(PEOPLE, "(objectClass=user)", ["employeeID"]);
  const changedGuid = await guidOf(ex, changed.dn);
  const deletedGuid = await guidOf(ex, deleted.dn);
  const movedGuid = await guidOf(ex, moved.dn);
  const movedRdn = moved.dn.split(/,(?=OU=)/)[0];
  await ex.dc.ldapmodify(
    [
      `dn: ${changed.dn}`,
      "changetype: modify",
      "replace: title",
      "title: Changed in AD",
      "",
      `dn: ${deleted.dn}`,
      "changetype: delete",
      "",
      `dn: ${moved.dn}`,
      "changetype: modrdn",
      `newrdn: ${movedRdn}`,
      "deleteoldrdn: 1",
      `newsuperior: CN=Users,${BASE}`,
      "",
      // Outside the containers: never the MA's business.
      `dn: CN=Outsider,CN=Users,${BASE}`,
      "changetype: add",
      "objectClass: contact",
      "",
    ].join("\n"),
  );
  const before = await watermark();
  const result = await ex.engine.run("directory", "delta-import");
  assert.equal(result.status, "success", JSON.stringify(result));
  assert.equal(result.counts.updates, 1, JSON.stringify(result.counts));
  assert.equal(result.counts.deletes, 2, JSON.stringify(result.counts));
  assert.equal(result.counts.adds, 0, JSON.stringify(result.counts));
  assert.notEqual(await watermark(), before, "the cookie moved on");

  const c = await csObject(changedGuid);
  assert.equal(c.attrs.title, "Changed in AD");
  assert.equal(c.attrs.employeeID, changed.get("employeeID"), "the whole object was read, not only the changed attribute");
  assert.equal((await csObject(deletedGuid)).deleted, true);
  assert.equal((await csObject(movedGuid)).deleted, true);

  const again = await ex.engine.run("directory", "delta-import");
  assert.equal(again.counts.updates + again.counts.deletes + again.counts.adds, 0, "nothing new: " + JSON.stringify(again.counts));
});

test("a full import counts no tombstone as a live object", async () => {
  const result = await ex.engine.run("directory", "full-import");
  assert.equal(result.status, "success", JSON.stringify(result));
  const live = await ex.engine.database.query<{ n: number }>(`select count(*)::int as n from cs_object where ma = 'directory' and not deleted and object_type = 'user'`);
  const inAd = await ex.search(PEOPLE, "(&(objectClass=user)(!(objectClass=computer)))", ["1.1"]);
  assert.equal(live.rows[0].n, inAd.length);
  const dns = await ex.engine.database.query<{ dn: string }>(`select dn from cs_object where ma = 'directory' and not deleted`);
  assert.ok(dns.rows.every((r) => !/\\0ADEL|Deleted Objects/i.test(r.dn)), "no tombstone DN");
  assert.ok(dns.rows.every((r) => normalizeDN(r.dn).endsWith(normalizeDN(`OU=idsync,${BASE}`))), "only the containers");
});
