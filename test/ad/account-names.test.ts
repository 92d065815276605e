// sAMAccountName must be unique in the domain: the example's flow (initial + surname) is declared
// `unique: true`, so a second A. García gets agarcía2, and a third, later, agarcía3; an existing
// account never flips to another name. A name beyond AD's limit (20 characters) is that person's
// error, naming the value; everyone else is provisioned.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { countsOf, describeRuns, PEOPLE, startAdExample, type AdExample, type HrRow } from "./helpers.ts";

const person = (employeeId: string, givenName: string, sn: string, status = "active"): HrRow => ({
  employeeId,
  givenName,
  sn,
  department: "Sales",
  title: "Associate",
  managerId: "",
  status,
  employeeType: "employee",
});

let ex: AdExample;
before(async () => {
  ex = await startAdExample({ people: 0 });
});
after(async () => {
  await ex?.close();
});

async function names(): Promise<Map<string, string>> {
  const users = await ex.search(PEOPLE, "(objectClass=user)", ["employeeID", "sAMAccountName"]);
  return new Map(users.map((u) => [u.get("employeeID")!, u.get("sAMAccountName")!]));
}

test("two A. Garcías get agarcía and agarcía2; a too-long name is one person's error", async () => {
  ex.writeHr([person("E100001", "Anna", "García"), person("E100002", "Alba", "García"), person("E100003", "Bo", "Averyveryverylongsurname")]);
  const result = await ex.cycle();
  assert.equal(result.status, "completed-with-errors", describeRuns(result));
  const n = await names();
  assert.equal(n.get("E100001"), "agarcía");
  assert.equal(n.get("E100002"), "agarcía2");
  assert.equal(n.has("E100003"), false);
  const errors = result.runs.flatMap((r) => r.errors).filter((e) => e.ma === "directory");
  assert.ok(
    errors.some((e) => /sAMAccountName "baveryveryverylongsurname" is 25 characters long; AD allows at most 20/.test(e.message)),
    JSON.stringify(errors),
  );
  assert.equal(result.objectErrors.directory, 1, describeRuns(result));
  assert.equal(countsOf(result, "directory", "export").adds, 3, "two users and the group: " + describeRuns(result));
});

test("the first leaves: the second keeps agarcía2, and a newcomer gets agarcía3", async () => {
  // Bo leaves too (out of the account rule's scope, so his error goes): nobody is deleted from HR.
  ex.writeHr([person("E100001", "Anna", "García", "leaver"), person("E100002", "Alba", "García"), person("E100003", "Bo", "Averyveryverylongsurname", "leaver"), person("E100004", "Alex", "García")]);
  const result = await ex.cycle();
  assert.equal(result.status, "success", describeRuns(result));
  const n = await names();
  assert.equal(n.get("E100002"), "agarcía2", "an existing account never flips");
  assert.equal(n.get("E100004"), "agarcía3", "agarcía is still held by the disabled leaver");
});

test("a renamed person gets a new name from the same rule", async () => {
  ex.writeHr([person("E100001", "Anna", "García", "leaver"), person("E100002", "Alba", "Lind"), person("E100003", "Bo", "Averyveryverylongsurname", "leaver"), person("E100004", "Alex", "García")]);
  const result = await ex.cycle();
  assert.equal(result.status, "success", describeRuns(result));
  const n = await names();
  assert.equal(n.get("E100002"), "alind");
  assert.equal(n.get("E100004"), "agarcía3");
});
