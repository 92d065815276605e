// Export: add (anchor = server-assigned entryUUID), minimal member add/delete, rename (modDN keeps
// entryUUID), delete — checked with OpenLDAP's own ldapsearch, including the accesslog's record of
// exactly what modifications were sent.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Connector } from "../../../src/connectors/types.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, groupType, parseLdif, personType } from "./helpers.ts";

let slapd: Slapd;
let c: Connector;
let people: string;
let groups: string;
before(async () => {
  slapd = await startSlapd({ accesslog: true });
  people = `ou=people,${slapd.suffix}`;
  groups = `ou=groups,${slapd.suffix}`;
  c = connectorFor(slapd, [personType([{ name: "uid" }, { name: "cn" }, { name: "sn" }, { name: "mail", multiValued: true }, { name: "title" }]), groupType()]);
});
after(async () => {
  await c.close();
  await slapd.stop();
});

async function entry(dn: string, ...attrs: string[]) {
  const out = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", dn, "-s", "base", ...attrs]));
  return out[0];
}

const uuids = new Map<string, string>();

test("add creates entries with the type's objectClasses and returns the server's entryUUID", async () => {
  const results = await c.export([
    { op: "add", id: "a", objectType: "person", dn: `uid=alice,${people}`, attrs: { uid: "alice", cn: "Alice", sn: "A", mail: ["alice@example.org", "a@example.org"], title: null } },
    { op: "add", id: "b", objectType: "person", dn: `uid=bob,${people}`, attrs: { uid: "bob", cn: "Bob", sn: "B" } },
    { op: "add", id: "c", objectType: "person", dn: `uid=carol,${people}`, attrs: { uid: "carol", cn: "Carol", sn: "C" } },
    { op: "add", id: "g", objectType: "group", dn: `cn=staff,${groups}`, attrs: { cn: "staff", member: [`uid=alice,${people}`, `uid=bob,${people}`] } },
  ]);
  assert.deepEqual(results.map((r) => [r.id, r.ok]), [["a", true], ["b", true], ["c", true], ["g", true]]);
  for (const r of results) {
    assert.ok(r.ok);
    const e = await entry(r.dn!, "entryUUID", "objectClass");
    assert.equal(r.anchor, e.attrs.get("entryuuid")![0], "the anchor is the entry's entryUUID");
    uuids.set(r.id, r.anchor!);
  }
  const alice = await entry(`uid=alice,${people}`, "objectClass", "mail", "title");
  assert.deepEqual(alice.attrs.get("objectclass"), ["inetOrgPerson"]);
  assert.deepEqual(alice.attrs.get("mail")!.sort(), ["a@example.org", "alice@example.org"]);
  assert.equal(alice.attrs.get("title"), undefined, "a null attribute is not written");
});

test("update of a member list sends only the added and removed values", async () => {
  const dn = `cn=staff,${groups}`;
  const [r] = await c.export([
    {
      op: "update",
      id: "g",
      objectType: "group",
      dn,
      anchor: uuids.get("g"),
      changes: {
        member: { replace: [`uid=alice,${people}`, `uid=carol,${people}`], previous: [`UID=Alice,${people}`, `uid=bob,${people}`] },
        description: { replace: "all staff" },
      },
    },
  ]);
  assert.equal(r.ok, true, JSON.stringify(r));
  const g = await entry(dn, "member", "description");
  assert.deepEqual(g.attrs.get("member")!.sort(), [`uid=alice,${people}`, `uid=carol,${people}`]);
  assert.deepEqual(g.attrs.get("description"), ["all staff"]);
  // The accesslog records the modification as sent: a delete of bob, an add of carol, nothing else
  // for member (alice differs only in case and is left alone).
  const log = parseLdif(
    await slapd.cli("ldapsearch", ["-LLL", "-b", slapd.accesslogBase!, `(&(objectClass=auditModify)(reqDN=${dn}))`, "reqMod"]),
  );
  const mods = log.at(-1)!.attrs.get("reqmod")!;
  const memberMods = mods.filter((m) => m.toLowerCase().startsWith("member:"));
  assert.deepEqual(memberMods.sort(), [`member:+ uid=carol,${people}`, `member:- uid=bob,${people}`]);
  assert.ok(mods.some((m) => m.startsWith("description:=")), "a single-valued attribute is replaced");
});

test("a null change removes the attribute; removing an absent one is no error", async () => {
  const dn = `uid=alice,${people}`;
  const [r] = await c.export([{ op: "update", id: "a", objectType: "person", dn, changes: { mail: { replace: null, previous: ["a@example.org"] }, title: { replace: null } } }]);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal((await entry(dn, "mail")).attrs.get("mail"), undefined);
});

test("a stale previous value set falls back to a full replace", async () => {
  const dn = `cn=staff,${groups}`;
  // The engine believes bob is still a member (he is not) and alice is not (she is).
  const [r] = await c.export([
    { op: "update", id: "g", objectType: "group", dn, changes: { member: { replace: [`uid=alice,${people}`, `uid=bob,${people}`], previous: [`uid=bob,${people}`] } } },
  ]);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual((await entry(dn, "member")).attrs.get("member")!.sort(), [`uid=alice,${people}`, `uid=bob,${people}`]);
});

test("a new DN is a rename (modDN): same entryUUID, values kept, then the changes applied", async () => {
  const old = `uid=bob,${people}`;
  const moved = `uid=robert,${groups}`;
  const [r] = await c.export([
    { op: "update", id: "b", objectType: "person", dn: old, newDn: moved, anchor: uuids.get("b"), changes: { uid: { replace: "robert" }, title: { replace: "moved" } } },
  ]);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.ok(r.ok && r.dn === moved);
  const e = await entry(moved, "entryUUID", "uid", "cn", "title");
  assert.equal(e.attrs.get("entryuuid")![0], uuids.get("b"), "modDN, not delete + add");
  assert.deepEqual(e.attrs.get("uid"), ["robert"], "deleteOldRdn: the old RDN value is gone");
  assert.deepEqual(e.attrs.get("cn"), ["Bob"]);
  assert.deepEqual(e.attrs.get("title"), ["moved"]);
  await assert.rejects(slapd.cli("ldapsearch", ["-LLL", "-b", old, "-s", "base"]), /No such object/);

  // Sent again (its answer lost, say): the entry is already there, the update still succeeds.
  const [again] = await c.export([
    { op: "update", id: "b", objectType: "person", dn: old, newDn: moved, anchor: uuids.get("b"), changes: { title: { replace: "moved" } } },
  ]);
  assert.equal(again.ok, true, JSON.stringify(again));
});

test("delete removes the entry; deleting it again succeeds (already gone)", async () => {
  const dn = `uid=carol,${people}`;
  const [r] = await c.export([{ op: "delete", id: "c", objectType: "person", dn, anchor: uuids.get("c") }]);
  assert.equal(r.ok, true);
  await assert.rejects(slapd.cli("ldapsearch", ["-LLL", "-b", dn, "-s", "base"]), /No such object/);
  const [again] = await c.export([{ op: "delete", id: "c", objectType: "person", dn, anchor: uuids.get("c") }]);
  assert.equal(again.ok, true);
});

test("an update by anchor alone finds the entry wherever it is", async () => {
  const [r] = await c.export([{ op: "update", id: "b", objectType: "person", anchor: uuids.get("b"), changes: { title: { replace: "by anchor" } } }]);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.ok(r.ok && r.dn === `uid=robert,${groups}`);
  assert.deepEqual((await entry(`uid=robert,${groups}`, "title")).attrs.get("title"), ["by anchor"]);
});

test("with readAnchorAfterAdd: false an add reports only its DN", async () => {
  const lazy = connectorFor(slapd, [personType([{ name: "uid" }, { name: "cn" }, { name: "sn" }])], { readAnchorAfterAdd: false });
  try {
    const [r] = await lazy.export([{ op: "add", id: "l", objectType: "person", dn: `uid=lazy,${people}`, attrs: { uid: "lazy", cn: "Lazy", sn: "L" } }]);
    assert.ok(r.ok && r.dn === `uid=lazy,${people}` && r.anchor === undefined, JSON.stringify(r));
    assert.ok((await entry(`uid=lazy,${people}`, "entryUUID")).attrs.get("entryuuid")![0]);
  } finally {
    await lazy.close();
  }
});
