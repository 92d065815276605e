// Entries that already exist in the directory are joined (the LDAP MA's join-only inbound rule:
// employeeNumber = employeeId), not duplicated: on the very first cycle, and later when an entry
// appears before HR has the person. A joined entry keeps its entryUUID and its initial-only values;
// the rule's DN and managed attributes are then flowed to it. Entries nobody joins are left alone.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { PEOPLE, personDN, startExample, totals, type Example } from "./helpers.ts";

let ex: Example;
before(async () => {
  ex = await startExample({ people: 40 });
});
after(async () => {
  await ex?.close();
});

const legacy = (uid: string, employeeNumber: string | undefined, mail: string) =>
  `dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: Legacy\nmail: ${mail}\n` +
  (employeeNumber ? `employeeNumber: ${employeeNumber}\n` : "") +
  "\n";

test("existing entries are joined on the first cycle, not duplicated", async () => {
  await ex.slapd.cli("ldapadd", [], legacy("ben.andersson", "E000001", "ben@legacy.example.org") + legacy("svc-backup", undefined, "backup@example.org"));
  const [ben] = await ex.search(PEOPLE, "(uid=ben.andersson)", ["entryUUID"]);
  const [svc] = await ex.search(PEOPLE, "(uid=svc-backup)", ["*", "entryUUID"]);

  const result = await ex.cycle();
  assert.equal(result.status, "success", JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
  const hr = ex.hr();
  const e1 = hr.find((r) => r.employeeId === "E000001")!;
  const found = await ex.search(PEOPLE, "(employeeNumber=E000001)", ["entryUUID", "mail", "uid", "cn"]);
  assert.equal(found.length, 1, "one entry for E000001");
  assert.equal(found[0].get("entryUUID"), ben.get("entryUUID"), "the existing entry, joined");
  assert.equal(normalizeDN(found[0].dn), normalizeDN(personDN(e1)), "renamed to the rule's DN");
  assert.equal(found[0].get("uid"), "e000001", "managed attributes flowed");
  assert.equal(found[0].get("mail"), "ben@legacy.example.org", "initial-only values are not overwritten");
  assert.ok(totals(result).joins >= 1);

  const [svcAfter] = await ex.search(PEOPLE, "(uid=svc-backup)", ["*", "entryUUID"]);
  assert.equal(svcAfter.get("entryUUID"), svc.get("entryUUID"));
  assert.deepEqual([...svcAfter.attrs.entries()].sort(), [...svc.attrs.entries()].sort(), "an entry nobody joins is untouched");

  // A report of E000001 names the joined entry as manager.
  const report = hr.find((r) => r.managerId === "E000001" && r.status === "active")!;
  const [r] = await ex.search(PEOPLE, `(employeeNumber=${report.employeeId})`, ["manager"]);
  assert.equal(normalizeDN(r.get("manager")!), normalizeDN(personDN(e1)));

  const all = await ex.search(PEOPLE, "(objectClass=inetOrgPerson)", ["employeeNumber"]);
  const numbers = all.flatMap((e) => e.all("employeeNumber"));
  assert.equal(new Set(numbers).size, numbers.length, "no employeeNumber twice");
  assert.equal((await ex.cycle()).changed, false);
});

test("an entry that exists before HR has the person is joined when the person arrives", async () => {
  await ex.slapd.cli("ldapadd", [], legacy("new.hire", "E000901", "new.hire@legacy.example.org"));
  const [pre] = await ex.search(PEOPLE, "(uid=new.hire)", ["entryUUID"]);
  assert.equal((await ex.cycle()).status, "success", "the entry alone joins nothing");

  const hire = { employeeId: "E000901", givenName: "Nia", sn: "Okafor", department: "Legal", title: "Associate", managerId: "E000001", status: "active", employeeType: "employee" };
  ex.writeHr([...ex.hr(), hire]);
  const result = await ex.cycle();
  assert.equal(result.status, "success");
  const found = await ex.search(PEOPLE, "(employeeNumber=E000901)", ["entryUUID", "manager"]);
  assert.equal(found.length, 1, "joined, not duplicated");
  assert.equal(found[0].get("entryUUID"), pre.get("entryUUID"));
  assert.equal(normalizeDN(found[0].dn), normalizeDN(personDN(hire)));
  assert.equal((await ex.cycle()).changed, false);
});
