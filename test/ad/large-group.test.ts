// A group of 2,000 members is imported completely (AD pages large value sets: member;range=0-1499
// and so on), and a change of one member goes out as one value add and one value delete.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { readFileSync } from "node:fs";
import { Client } from "ldapts";
import { completeRanges } from "../../src/connectors/ldap/ranged.ts";
import type { Connector, ImportedObject } from "../../src/connectors/types.ts";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { startDomainController, type DomainController } from "../harness/samba.ts";
import { adConnector } from "./helpers.ts";

const MEMBERS = 2000;
let dc: DomainController;
let ou: string;
let group: string;
const contact = (i: number) => `CN=Contact ${String(i).padStart(4, "0")},${ou}`;

before(async () => {
  dc = await startDomainController();
  ou = `OU=Big,${dc.baseDN}`;
  group = `CN=Everyone,${ou}`;
  const ldif = [`dn: ${ou}`, "changetype: add", "objectClass: organizationalUnit", ""];
  for (let i = 0; i <= MEMBERS; i++) ldif.push(`dn: ${contact(i)}`, "changetype: add", "objectClass: contact", "");
  ldif.push(`dn: ${group}`, "changetype: add", "objectClass: group", "sAMAccountName: everyone-big");
  for (let i = 0; i < MEMBERS; i++) ldif.push(`member: ${contact(i)}`);
  ldif.push("");
  await dc.ldapmodify(ldif.join("\n"));
});
after(async () => {
  await dc?.stop();
});

function connector(): Connector {
  return adConnector(dc, { containers: [ou], objectTypes: [{ name: "group", anchor: [], attributes: [{ name: "sAMAccountName" }, { name: "member", type: "reference", multiValued: true }] }] });
}

async function importGroups(c: Connector): Promise<ImportedObject[]> {
  const out: ImportedObject[] = [];
  for await (const b of c.fullImport()) out.push(...b.items);
  return out;
}

test("ranged retrieval reads every value, window by window", async () => {
  const client = new Client({ url: dc.url, tlsOptions: { ca: [readFileSync(dc.caFile)] } });
  await client.bind(dc.adminDN, dc.adminPassword);
  const res = await client.search(group, { scope: "base", filter: "(objectClass=*)", attributes: ["member;range=0-499"] });
  const entry = res.searchEntries[0];
  assert.ok(Object.keys(entry).some((k) => /^member;range=0-499$/i.test(k)), "the server answered a window");
  await completeRanges(client, entry, 500);
  assert.equal((entry.member as string[]).length, MEMBERS);
  assert.equal(new Set((entry.member as string[]).map((m) => m.toLowerCase())).size, MEMBERS);
  await client.unbind();
});

test("a full import holds all 2,000 members, and a one-member change is exported and read back", async () => {
  const c = connector();
  try {
    const [everyone] = await importGroups(c);
    const members = everyone.attrs.member as string[];
    assert.equal(members.length, MEMBERS);
    assert.ok(members.includes(normalizeDN(contact(1999))));

    const next = [...members.filter((m) => m !== normalizeDN(contact(0))), normalizeDN(contact(MEMBERS))];
    const [result] = await c.export([{ op: "update", id: "1", objectType: "group", anchor: everyone.anchor, dn: everyone.dn, changes: { member: { replace: next, previous: members } } }]);
    assert.equal(result.ok, true, JSON.stringify(result));

    const text = await dc.ldapsearch(["-b", group, "-s", "base", "(objectClass=*)", "member"]);
    const after = text.split("\n").filter((l) => l.startsWith("member:")).map((l) => normalizeDN(l.slice(7).trim()));
    assert.equal(after.length, MEMBERS);
    assert.ok(!after.includes(normalizeDN(contact(0))), "the removed member is gone");
    assert.ok(after.includes(normalizeDN(contact(MEMBERS))), "the added member is there");
    const [reread] = await importGroups(c);
    assert.deepEqual([...(reread.attrs.member as string[])].sort(), [...next].sort());
  } finally {
    await c.close();
  }
});
