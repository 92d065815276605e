// A delete's ExportResult says `confirmed` when the server's answers prove the entry gone — the
// engine then settles it without waiting for an import (a delta import without accesslog never sees
// deletions). Confirmed: the delete succeeded; or noSuchObject and no entry carries the anchor (or
// there is no anchor to look for). Not confirmed when the server cannot tell where the entry went.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Connector, ExportResult } from "../../../src/connectors/types.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, personType } from "./helpers.ts";

let slapd: Slapd;
let c: Connector;
let people: string;
before(async () => {
  slapd = await startSlapd();
  people = `ou=people,${slapd.suffix}`;
  c = connectorFor(slapd, [personType([{ name: "uid" }, { name: "cn" }, { name: "sn" }])]);
});
after(async () => {
  await c.close();
  await slapd.stop();
});

async function add(uid: string): Promise<string> {
  const [r] = await c.export([{ op: "add", id: uid, objectType: "person", dn: `uid=${uid},${people}`, attrs: { uid, cn: uid, sn: uid } }]);
  assert.ok(r.ok && r.anchor, JSON.stringify(r));
  return r.anchor;
}

const confirmed = (r: ExportResult) => r.ok && r.confirmed === true;

test("a delete the server answers with success is confirmed; again (already gone) too", async () => {
  const anchor = await add("del1");
  const dn = `uid=del1,${people}`;
  const [r] = await c.export([{ op: "delete", id: "1", objectType: "person", dn, anchor }]);
  assert.ok(confirmed(r), JSON.stringify(r));
  await assert.rejects(slapd.cli("ldapsearch", ["-LLL", "-b", dn, "-s", "base"]), /No such object/);
  const [again] = await c.export([{ op: "delete", id: "1", objectType: "person", dn, anchor }]);
  assert.ok(confirmed(again), `noSuchObject and nothing carries the anchor: ${JSON.stringify(again)}`);
  const [byAnchor] = await c.export([{ op: "delete", id: "1", objectType: "person", anchor }]);
  assert.ok(confirmed(byAnchor), `no DN, and no entry carries the anchor: ${JSON.stringify(byAnchor)}`);
});

test("an entry renamed out of band is deleted where it is now, confirmed", async () => {
  const anchor = await add("del2");
  await slapd.cli("ldapmodify", [], `dn: uid=del2,${people}\nchangetype: modrdn\nnewrdn: uid=del2b\ndeleteoldrdn: 1\n`);
  const [r] = await c.export([{ op: "delete", id: "2", objectType: "person", dn: `uid=del2,${people}`, anchor }]);
  assert.ok(confirmed(r), JSON.stringify(r));
  assert.equal(r.ok && r.dn?.toLowerCase(), `uid=del2b,${people}`.toLowerCase());
  await assert.rejects(slapd.cli("ldapsearch", ["-LLL", "-b", `uid=del2b,${people}`, "-s", "base"]), /No such object/);
});

test("noSuchObject without an anchor is confirmed: the DN is all that names the entry", async () => {
  const [r] = await c.export([{ op: "delete", id: "3", objectType: "person", dn: `uid=never-there,${people}` }]);
  assert.ok(confirmed(r), JSON.stringify(r));
});

test("noSuchObject with an anchor the server cannot look up succeeds unconfirmed", async () => {
  // A composite anchor cannot be searched for: the entry may live on under another DN.
  const composite = connectorFor(slapd, [personType([{ name: "uid" }, { name: "sn" }], { anchor: ["uid", "sn"] })]);
  try {
    const [r] = await composite.export([{ op: "delete", id: "4", objectType: "person", dn: `uid=gone,${people}`, anchor: "gone+gone" }]);
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(confirmed(r), false, "left for an import to decide");
  } finally {
    await composite.close();
  }
});
