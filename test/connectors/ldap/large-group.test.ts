// A groupOfNames with 10,000 members: one add, then an update that adds and removes a few values.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Connector } from "../../../src/connectors/types.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, groupType, importAll, parseLdif } from "./helpers.ts";

let slapd: Slapd;
let c: Connector;
let people: string;
before(async () => {
  slapd = await startSlapd({ accesslog: true });
  people = `ou=people,${slapd.suffix}`;
  c = connectorFor(slapd, [groupType()], { accesslogBase: slapd.accesslogBase });
});
after(async () => {
  await c.close();
  await slapd.stop();
});

const member = (i: number) => `uid=m${i},${people}`;

test("10k members in one add, then +3/-2 members as value changes", async () => {
  const dn = `cn=everyone,ou=groups,${slapd.suffix}`;
  const members = Array.from({ length: 10_000 }, (_, i) => member(i));
  const [added] = await c.export([{ op: "add", id: "g", objectType: "group", dn, attrs: { cn: "everyone", member: members } }]);
  assert.equal(added.ok, true, JSON.stringify(added));

  const next = [...members.filter((m) => m !== member(5) && m !== member(9_999)), member(10_000), member(10_001), member(10_002)];
  const [updated] = await c.export([
    { op: "update", id: "g", objectType: "group", dn, changes: { member: { replace: next, previous: members } } },
  ]);
  assert.equal(updated.ok, true, JSON.stringify(updated));

  // Checked with ldapsearch: 10,001 values, the right ones.
  const [g] = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", dn, "-s", "base", "member"]));
  const values = new Set(g.attrs.get("member"));
  assert.equal(values.size, 10_001);
  assert.ok(values.has(member(10_002)) && values.has(member(0)));
  assert.ok(!values.has(member(5)) && !values.has(member(9_999)));

  // The modify carried five values, not ten thousand.
  const log = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", slapd.accesslogBase!, `(&(objectClass=auditModify)(reqDN=${dn}))`, "reqMod"]));
  const mods = log.at(-1)!.attrs.get("reqmod")!.filter((m) => m.startsWith("member:"));
  assert.equal(mods.length, 5);

  // And a full import reads the group back with every member, normalized.
  const { objects } = await importAll(c);
  const imported = objects.find((o) => o.attrs.cn === "everyone")!;
  assert.equal((imported.attrs.member as string[]).length, 10_001);
  assert.ok((imported.attrs.member as string[]).includes(member(10_001).toLowerCase()));
});
