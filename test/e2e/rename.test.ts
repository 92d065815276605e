// A changed name changes the DN the rule computes: the entry is renamed (modDN), never deleted and
// re-added, so its entryUUID (the anchor) stays; the RDN and name attributes follow.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { escapeFilterValue } from "../../src/expr/dn.ts";
import { countsOf, GROUPS, groupDN, PEOPLE, personDN, startExample, type Example, type HrRow } from "./helpers.ts";

let ex: Example;
let anna: HrRow;
let reports: HrRow[];
before(async () => {
  ex = await startExample({ people: 60 });
  const hr = ex.hr();
  anna = hr.find((r) => r.employeeId === "E000007")!;
  reports = hr.filter((r) => r.managerId === anna.employeeId && r.status === "active");
  assert.ok(reports.length > 0, "E000007 manages someone");
  const first = await ex.cycle();
  assert.equal(first.status, "success");
});
after(async () => {
  await ex?.close();
});

const renamed = () => ({ ...anna, sn: "García-Lind" });

test("a changed name is a modDN of the same entry", async () => {
  const before = await ex.search(PEOPLE, "(employeeNumber=E000007)", ["entryUUID"]);
  assert.equal(before.length, 1);
  assert.equal(normalizeDN(before[0].dn), normalizeDN(personDN(anna)));

  ex.writeHr(ex.hr().map((r) => (r.employeeId === anna.employeeId ? renamed() : r)));
  const result = await ex.cycle();
  assert.equal(result.status, "success", JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
  const exported = countsOf(result, "directory", "export");
  assert.equal(exported.renames, 1);
  assert.equal(exported.adds ?? 0, 0);
  assert.equal(exported.deletes ?? 0, 0);

  const after = await ex.search(PEOPLE, "(employeeNumber=E000007)", ["entryUUID", "cn", "sn", "displayName"]);
  assert.equal(after.length, 1, "still one entry");
  assert.equal(normalizeDN(after[0].dn), normalizeDN(personDN(renamed())));
  assert.equal(after[0].get("entryUUID"), before[0].get("entryUUID"), "same entry: renamed, not re-created");
  assert.deepEqual(after[0].all("cn"), ["Anna García-Lind (E000007)"], "the old RDN value is gone");
  assert.equal(after[0].get("sn"), "García-Lind");
  assert.equal(after[0].get("displayName"), "Anna García-Lind");
  assert.equal((await ex.search(PEOPLE, `(cn=${escapeFilterValue("Anna García (E000007)")})`)).length, 0, "nothing left at the old DN");

  const again = await ex.cycle();
  assert.equal(again.changed, false, "the rename is confirmed and nothing else changes");
});

// Known engine gap (see the issue note): the referrers of a renamed entry are not recomputed, so
// their manager / member values keep the old DN until a full sync.
test("after a rename, manager and member values name the new DN", async () => {
  const newDn = normalizeDN(personDN(renamed()));
  for (const r of reports) {
    const [e] = await ex.search(PEOPLE, `(employeeNumber=${r.employeeId})`, ["manager"]);
    assert.equal(normalizeDN(e.get("manager")!), newDn, `${r.employeeId}'s manager`);
  }
  const [sales] = await ex.search(GROUPS, `(cn=${anna.department})`, ["member"]);
  assert.equal(normalizeDN(sales.dn), normalizeDN(groupDN(anna.department)));
  assert.ok(sales.all("member").map(normalizeDN).includes(newDn), "the department group lists the new DN");
});

test("a full cycle brings the manager and member values in line with the rename", async () => {
  const result = await ex.engine.cycle({ full: true });
  assert.equal(result.status, "success");
  const newDn = normalizeDN(personDN(renamed()));
  for (const r of reports) {
    const [e] = await ex.search(PEOPLE, `(employeeNumber=${r.employeeId})`, ["manager"]);
    assert.equal(normalizeDN(e.get("manager")!), newDn, `${r.employeeId}'s manager`);
  }
  const [group] = await ex.search(GROUPS, `(cn=${anna.department})`, ["member"]);
  const members = group.all("member").map(normalizeDN);
  assert.ok(members.includes(newDn), "the department group lists the new DN");
  assert.ok(!members.includes(normalizeDN(personDN(anna))), "and not the old one");
});
