// Names with leading or trailing spaces: RFC 4514 escapes such a space (`\ ` or `\20`), and the two
// spellings name the same entry. The rule writes `\ ` (escapeDNComponent); slapd hands the DN back
// as `\20` (cn=\20Ann…, cn=Ops\20). The engine's DN comparison used to drop a \20 at either end of
// a value, so the DN read back differed from the rule's and every full cycle sent a rename.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { parseDN } from "../../src/connectors/ldap/index.ts";
import { countsOf, GROUPS, PEOPLE, startExample, type Example, type HrRow } from "./helpers.ts";

// The CSV connector keeps a cell's surrounding spaces, so the spaces come straight from HR's file:
// the display name (givenName + " " + sn) starts and ends with a space. Its RDN value is
// `displayName (employeeId)`, so the person's DN starts with an escaped space; the department name
// ends with one, and it is the whole RDN value of the department's group, so that DN ends with one.
const DEPARTMENT = "Ops ";
const spaced: HrRow = {
  employeeId: "E000921",
  givenName: " Ann",
  sn: "Lee ",
  department: DEPARTMENT,
  title: "Engineer",
  managerId: "E000001",
  status: "active",
  employeeType: "employee",
};
const leading: HrRow = { ...spaced, employeeId: "E000922", givenName: "  Bo", sn: "Ek", department: " Lab" };

let ex: Example;
before(async () => {
  ex = await startExample({ people: 10 });
  ex.writeHr([...ex.hr(), spaced, leading]);
  const first = await ex.cycle();
  assert.equal(first.status, "success", JSON.stringify(first.runs.map((r) => [r.ma, r.profile, r.status, r.message, r.errors.slice(0, 2)])));
});
after(async () => {
  await ex?.close();
});

const rdnValue = (dn: string) => parseDN(dn)[0][0].value;

test("names with leading and trailing spaces provision with those spaces in their DNs", async () => {
  for (const p of [spaced, leading]) {
    const found = await ex.search(PEOPLE, `(employeeNumber=${p.employeeId})`, ["cn"]);
    assert.equal(found.length, 1, p.employeeId);
    assert.equal(rdnValue(found[0].dn), `${p.givenName} ${p.sn} (${p.employeeId})`, `${p.employeeId}: the RDN keeps the leading space`);
  }
  const groups = await ex.search(GROUPS, "(objectClass=groupOfNames)", ["cn"]);
  const values = groups.map((g) => rdnValue(g.dn));
  assert.ok(values.includes(DEPARTMENT), `a group whose RDN ends with a space: ${JSON.stringify(values)}`);
  assert.ok(values.includes(" Lab"), `a group whose RDN starts with a space: ${JSON.stringify(values)}`);
});

test("repeated full cycles send no rename for them", async () => {
  for (let i = 0; i < 2; i++) {
    const result = await ex.engine.cycle({ full: true });
    const runs = JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.errors.slice(0, 2)]));
    assert.equal(countsOf(result, "directory", "export").renames ?? 0, 0, `full cycle ${i + 1}: no rename: ${runs}`);
    assert.equal(result.changed, false, `full cycle ${i + 1}: nothing changes: ${runs}`);
    assert.equal(result.status, "success", runs);
  }
});
