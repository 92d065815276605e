// DNs built with escapeDNComponent provision and are found back; filter values cannot widen a search.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "ldapts";
import { normalizeDN } from "../../../src/connectors/ldap/dn.ts";
import { equalityFilter, parseFilter } from "../../../src/connectors/ldap/filter.ts";
import type { Connector } from "../../../src/connectors/types.ts";
import { escapeDNComponent } from "../../../src/expr/dn.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, importAll, parseLdif, peopleLdif, personType } from "./helpers.ts";

let slapd: Slapd;
let c: Connector;
let people: string;
const tricky = `O'Brien, Jr. + "Sales" <Test>#1`;
const nordic = "Åsa Ødegård";
before(async () => {
  slapd = await startSlapd();
  people = `ou=people,${slapd.suffix}`;
  await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 3));
  c = connectorFor(slapd, [personType([{ name: "cn" }, { name: "sn" }, { name: "uid" }])]);
});
after(async () => {
  await c.close();
  await slapd.stop();
});

test("names with RFC 4514 specials and non-ASCII letters provision and import back", async () => {
  const dnTricky = `cn=${escapeDNComponent(tricky)},${people}`;
  const dnNordic = `cn=${escapeDNComponent(nordic)},${people}`;
  const results = await c.export([
    { op: "add", id: "t", objectType: "person", dn: dnTricky, attrs: { cn: tricky, sn: "O'Brien" } },
    { op: "add", id: "n", objectType: "person", dn: dnNordic, attrs: { cn: nordic, sn: "Ødegård" } },
  ]);
  assert.deepEqual(results.map((r) => r.ok), [true, true], JSON.stringify(results));

  // OpenLDAP's own client finds them by value.
  const found = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", people, `(cn=${nordic})`, "cn"]));
  assert.equal(found.length, 1);
  assert.equal(found[0].attrs.get("cn")![0], "::" + Buffer.from(nordic).toString("base64"));
  assert.equal(normalizeDN(found[0].dn), normalizeDN(dnNordic));

  const { objects } = await importAll(c);
  const t = objects.find((o) => o.attrs.cn === tricky);
  const n = objects.find((o) => o.attrs.cn === nordic);
  assert.ok(t && n);
  assert.equal(normalizeDN(t.dn!), normalizeDN(dnTricky));
  assert.equal(normalizeDN(n.dn!), normalizeDN(dnNordic));
  assert.equal(t.anchor, results[0].ok ? results[0].anchor : undefined);
});

test("a rename to an RDN ending in a backslash lands on exactly that DN", async () => {
  const value = "Ends with \\";
  const from = `cn=${escapeDNComponent(nordic)},${people}`;
  const to = `cn=${escapeDNComponent(value)},ou=groups,${slapd.suffix}`;
  const [r] = await c.export([{ op: "update", id: "n", objectType: "person", dn: from, newDn: to, changes: {} }]);
  assert.equal(r.ok, true, JSON.stringify(r));
  const found = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", `ou=groups,${slapd.suffix}`, "-s", "one", "(objectClass=inetOrgPerson)", "cn"]));
  assert.equal(found.length, 1);
  assert.deepEqual(found[0].attrs.get("cn"), [value]);
});

test("a filter value like *)(uid=* is one literal value, never a wider search", async () => {
  const client = new Client({ url: slapd.url });
  try {
    await client.bind(slapd.bindDN, slapd.password);
    const hostile = "*)(uid=*";
    const escaped = await client.search(people, { scope: "sub", filter: parseFilter(`(&(objectClass=inetOrgPerson)${equalityFilter("cn", hostile)})`) });
    assert.equal(escaped.searchEntries.length, 0);
    // The same text concatenated raw would have matched every person: the escaping matters.
    const raw = await client.search(people, { scope: "sub", filter: `(&(objectClass=inetOrgPerson)(cn=${hostile}))` });
    assert.ok(raw.searchEntries.length >= 3);
    // Escaped non-ASCII values still match (ldapts needs the UTF-8 escapes decoded for it).
    const nordicHit = await client.search(slapd.suffix, { scope: "sub", filter: parseFilter(equalityFilter("sn", "Ødegård")) });
    assert.equal(nordicHit.searchEntries.length, 1);
  } finally {
    await client.unbind();
  }
});

test("an export addressed by a hostile anchor touches nothing", async () => {
  const byUid = connectorFor(slapd, [personType([{ name: "uid" }, { name: "description" }], { anchor: ["uid"] })]);
  try {
    const [r] = await byUid.export([{ op: "update", id: "x", objectType: "person", anchor: "*)(uid=*", changes: { description: { replace: "pwned" } } }]);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.code === "noSuchObject");
    const [d] = await byUid.export([{ op: "delete", id: "y", objectType: "person", anchor: "*" }]);
    assert.equal(d.ok, true, "nothing carries the anchor '*': nothing to delete");
    const all = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", people, "(objectClass=inetOrgPerson)", "description"]));
    assert.ok(all.length >= 4, "no entry was deleted");
    assert.ok(all.every((e) => !e.attrs.has("description")), "no entry was modified");
  } finally {
    await byUid.close();
  }
});
