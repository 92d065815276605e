// A reference to an add that failed is left out: the department group gets its other new member
// and the new report is written without a manager, instead of naming an entry that is not ours
// (OpenLDAP would take the DN; Active Directory, or SQL with foreign keys, refuse it). Once the add
// succeeds, the group and the report name it, without a full sync. The add fails here because an
// entry someone else made holds its DN; it succeeds once that entry is gone.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { GROUPS, PEOPLE, personDN, startExample, type Example, type HrRow } from "./helpers.ts";

const ida: HrRow = { employeeId: "E000931", givenName: "Ida", sn: "Berg", department: "Legal", title: "Manager", managerId: "E000001", status: "active", employeeType: "employee" };
const eli: HrRow = { employeeId: "E000932", givenName: "Eli", sn: "Lund", department: "Legal", title: "Associate", managerId: ida.employeeId, status: "active", employeeType: "employee" };

let ex: Example;
before(async () => {
  ex = await startExample({ people: 30 });
  assert.equal((await ex.cycle()).status, "success");
});
after(async () => {
  await ex?.close();
});

const members = async () => (await ex.search(GROUPS, "(cn=Legal)", ["member"]))[0].all("member").map(normalizeDN);
const managerOf = async (r: HrRow) => (await ex.search(PEOPLE, `(employeeNumber=${r.employeeId})`, ["manager"]))[0]?.get("manager");

test("a member or manager whose add failed is left out; the rest is written", async () => {
  ex.writeHr([...ex.hr(), ida, eli]);
  for (const ma of ["hr", "hr-departments", "directory"]) await ex.engine.run(ma, "delta-import");
  for (const ma of ["hr", "hr-departments"]) await ex.engine.run(ma, "delta-sync");
  // Between the sync and the export, someone else makes an entry with Ida's DN.
  await ex.slapd.cli("ldapadd", [], `dn: ${personDN(ida)}\nobjectClass: inetOrgPerson\ncn: Ida Berg (E000931)\nsn: Squatter\n`);
  const exp = await ex.engine.run("directory", "export");
  assert.deepEqual(exp.errors.map((e) => e.code), ["entryAlreadyExists"], JSON.stringify(exp.errors));

  assert.ok((await members()).includes(normalizeDN(personDN(eli))), "the other new member is in the group");
  assert.ok(!(await members()).includes(normalizeDN(personDN(ida))), "the failed add is not");
  assert.equal(await managerOf(eli), undefined, "the report has no manager while the manager's add fails");
});

test("once the add succeeds, the group and the report name it, without a full sync", async () => {
  await ex.slapd.cli("ldapdelete", [personDN(ida)]);
  const result = await ex.cycle();
  assert.equal(result.status, "success", JSON.stringify(result.runs.flatMap((r) => r.errors)));
  assert.ok(!result.runs.some((r) => r.profile === "full-sync"));
  assert.ok((await members()).includes(normalizeDN(personDN(ida))));
  assert.equal(normalizeDN((await managerOf(eli))!), normalizeDN(personDN(ida)));
  assert.equal((await ex.cycle()).changed, false);
});
