// Names that need escaping in DNs (RFC 4514: , + " < > ; = \ and a leading #) and non-ASCII
// letters provision to the right DNs, are referenced correctly (manager, group member), stay
// unchanged on the next cycle, and rename like any other name.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalizeDN, parseDN } from "../../src/connectors/ldap/index.ts";
import { GROUPS, groupDN, PEOPLE, personDN, startExample, type Example, type HrRow } from "./helpers.ts";

const DEPARTMENT = 'R&D, "Labs" + <Ops>; =Test';
const row = (employeeId: string, givenName: string, sn: string, managerId = "E000001"): HrRow => ({
  employeeId,
  givenName,
  sn,
  department: DEPARTMENT,
  title: "Engineer",
  managerId,
  status: "active",
  employeeType: "employee",
});
const obrien = row("E000911", "O'Brien, Jr.", '+ "Sales" <Test>#1'); // displayName O'Brien, Jr. + "Sales" <Test>#1
const asa = row("E000912", "Åsa", "Ødegård", obrien.employeeId);
const hash = row("E000913", "#1", "Fan\\Back", obrien.employeeId);

let ex: Example;
before(async () => {
  ex = await startExample({ people: 10 });
  ex.writeHr([...ex.hr(), obrien, asa, hash]);
  const first = await ex.cycle();
  assert.equal(first.status, "success", JSON.stringify(first.runs.map((r) => [r.ma, r.profile, r.status, r.message, r.errors.slice(0, 2)])));
});
after(async () => {
  await ex?.close();
});

/** The value of the first RDN of a DN, unescaped. */
const rdnValue = (dn: string) => parseDN(dn)[0][0].value;

test("special characters and non-ASCII letters provision to the right DNs", async () => {
  assert.equal(`${obrien.givenName} ${obrien.sn}`, `O'Brien, Jr. + "Sales" <Test>#1`);
  for (const p of [obrien, asa, hash]) {
    const found = await ex.search(PEOPLE, `(employeeNumber=${p.employeeId})`, ["cn", "displayName", "manager"]);
    assert.equal(found.length, 1, p.employeeId);
    const [e] = found;
    assert.equal(rdnValue(e.dn), `${p.givenName} ${p.sn} (${p.employeeId})`, "the RDN holds the name exactly");
    assert.equal(normalizeDN(e.dn), normalizeDN(personDN(p)));
    assert.deepEqual(e.all("cn"), [`${p.givenName} ${p.sn} (${p.employeeId})`]);
    assert.equal(e.get("displayName"), `${p.givenName} ${p.sn}`);
    if (p !== obrien) assert.equal(rdnValue(e.get("manager")!), `O'Brien, Jr. + "Sales" <Test>#1 (E000911)`, "manager DN with escapes");
  }
  const groups = await ex.search(GROUPS, "(objectClass=groupOfNames)", ["cn", "member"]);
  const g = groups.find((x) => x.get("cn") === DEPARTMENT);
  assert.ok(g, "the department group");
  assert.equal(rdnValue(g.dn), DEPARTMENT);
  assert.equal(normalizeDN(g.dn), normalizeDN(groupDN(DEPARTMENT)));
  assert.deepEqual(g.all("member").map(rdnValue).sort(), [obrien, asa, hash].map((p) => `${p.givenName} ${p.sn} (${p.employeeId})`).sort());

  assert.equal((await ex.cycle()).changed, false, "escaped DNs compare equal on the next cycle: nothing to do");
});

test("a name with special characters renames like any other", async () => {
  const [before] = await ex.search(PEOPLE, `(employeeNumber=${obrien.employeeId})`, ["entryUUID"]);
  const renamed = { ...obrien, sn: '+ "Sales" <Test>#2; x=y' };
  ex.writeHr(ex.hr().map((r) => (r.employeeId === obrien.employeeId ? renamed : r)));
  const result = await ex.cycle();
  assert.equal(result.status, "success", JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.message, r.errors.slice(0, 2)])));
  const [after] = await ex.search(PEOPLE, `(employeeNumber=${obrien.employeeId})`, ["entryUUID", "cn"]);
  assert.equal(after.get("entryUUID"), before.get("entryUUID"));
  assert.equal(rdnValue(after.dn), `O'Brien, Jr. + "Sales" <Test>#2; x=y (E000911)`);
  assert.deepEqual(after.all("cn"), [`O'Brien, Jr. + "Sales" <Test>#2; x=y (E000911)`]);
});
