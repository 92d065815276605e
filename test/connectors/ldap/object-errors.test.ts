// A per-object LDAP error is that object's result; the rest of the batch is still exported.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Connector } from "../../../src/connectors/types.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, parseLdif, personType } from "./helpers.ts";

let slapd: Slapd;
let c: Connector;
let people: string;
before(async () => {
  slapd = await startSlapd();
  people = `ou=people,${slapd.suffix}`;
  c = connectorFor(slapd, [personType([{ name: "uid" }, { name: "cn" }, { name: "sn" }, { name: "title" }])]);
});
after(async () => {
  await c.close();
  await slapd.stop();
});

test("objectClassViolation, noSuchObject and undefined attributes fail alone; the others land", async () => {
  const results = await c.export([
    { op: "add", id: "ok1", objectType: "person", dn: `uid=one,${people}`, attrs: { uid: "one", cn: "One", sn: "1" } },
    { op: "add", id: "nosn", objectType: "person", dn: `uid=two,${people}`, attrs: { uid: "two", cn: "Two" } },
    { op: "add", id: "noparent", objectType: "person", dn: `uid=three,ou=nowhere,${slapd.suffix}`, attrs: { uid: "three", cn: "Three", sn: "3" } },
    { op: "update", id: "gone", objectType: "person", dn: `uid=ghost,${people}`, changes: { title: { replace: "x" } } },
    { op: "add", id: "nodn", objectType: "person", attrs: { uid: "four", cn: "Four", sn: "4" } },
    { op: "add", id: "ok2", objectType: "person", dn: `uid=five,${people}`, attrs: { uid: "five", cn: "Five", sn: "5" } },
  ]);
  const byId = Object.fromEntries(results.map((r) => [r.id, r]));
  assert.equal(results.length, 6);
  assert.equal(byId.ok1.ok, true);
  assert.equal(byId.ok2.ok, true);
  const nosn = byId.nosn;
  assert.ok(!nosn.ok && nosn.code === "objectClassViolation" && nosn.retryable === false, JSON.stringify(nosn));
  assert.match(nosn.ok ? "" : nosn.message, /uid=two/);
  const noparent = byId.noparent;
  assert.ok(!noparent.ok && noparent.code === "noSuchObject" && noparent.retryable, JSON.stringify(noparent));
  assert.ok(!byId.gone.ok && byId.gone.code === "noSuchObject", JSON.stringify(byId.gone));
  assert.ok(!byId.nodn.ok && byId.nodn.code === "missingDn" && !byId.nodn.retryable);
  const present = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", people, "(objectClass=inetOrgPerson)", "uid"])).map((e) => e.attrs.get("uid")![0]);
  assert.deepEqual(present.sort(), ["five", "one"]);
});

test("an add repeated with the same values (its first answer lost) succeeds with the same anchor", async () => {
  const op = { op: "add" as const, id: "r", objectType: "person", dn: `uid=rep,${people}`, attrs: { uid: "rep", cn: "Rep", sn: "R" } };
  const [first] = await c.export([op]);
  const [second] = await c.export([op]);
  assert.ok(first.ok && second.ok, JSON.stringify([first, second]));
  assert.equal(second.anchor, first.anchor);
});

test("an add onto an existing entry with other values is entryAlreadyExists", async () => {
  const [r] = await c.export([{ op: "add", id: "d", objectType: "person", dn: `uid=one,${people}`, attrs: { uid: "one", cn: "Someone else", sn: "1" } }]);
  assert.ok(!r.ok && r.code === "entryAlreadyExists" && !r.retryable, JSON.stringify(r));
});

test("a constraint violation on modify (second value of a single-valued attribute) is per object", async () => {
  // displayName is SINGLE-VALUE in inetOrgPerson; the type here (wrongly) declares it multi-valued.
  const c2 = connectorFor(slapd, [personType([{ name: "uid" }, { name: "displayName", multiValued: true }])]);
  try {
    const results = await c2.export([
      { op: "update", id: "bad", objectType: "person", dn: `uid=one,${people}`, changes: { displayName: { replace: ["a", "b"] } } },
      { op: "update", id: "good", objectType: "person", dn: `uid=five,${people}`, changes: { displayName: { replace: ["Five"] } } },
    ]);
    assert.ok(!results[0].ok && results[0].code === "constraintViolation", JSON.stringify(results[0]));
    assert.equal(results[1].ok, true);
  } finally {
    await c2.close();
  }
});
