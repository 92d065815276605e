// A leaver leaves HR's scope: the metaverse object is deleted (RetentionPolicy: disconnected from
// hr), the directory entry is deleted, and the department group no longer lists the person.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { countsOf, GROUPS, groupDN, PEOPLE, personDN, startExample, type Example, type HrRow } from "./helpers.ts";

let ex: Example;
before(async () => {
  ex = await startExample({ people: 60 });
  assert.equal((await ex.cycle()).status, "success");
});
after(async () => {
  await ex?.close();
});

function leave(ids: string[]): void {
  ex.writeHr(ex.hr().map((r) => (ids.includes(r.employeeId) ? { ...r, status: "leaver" } : r)));
}

test("a leaver's entry is deleted and leaves the department group", async () => {
  const hr = ex.hr();
  const managers = new Set(hr.map((r) => r.managerId));
  const leaver = hr.find((r) => r.status === "active" && !managers.has(r.employeeId) && r.department === "Sales") as HrRow;
  assert.ok(leaver, "an active Sales person who manages nobody");
  const group = () => ex.search(GROUPS, `(cn=${leaver.department})`, ["member"]);
  assert.ok((await group())[0].all("member").map(normalizeDN).includes(normalizeDN(personDN(leaver))));

  leave([leaver.employeeId]);
  const result = await ex.cycle();
  assert.equal(result.status, "success", JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
  assert.equal(countsOf(result, "directory", "export").deletes, 1, "one delete exported");
  assert.equal((await ex.search(PEOPLE, `(employeeNumber=${leaver.employeeId})`)).length, 0, "the entry is gone");
  const [g] = await group();
  assert.equal(normalizeDN(g.dn), normalizeDN(groupDN(leaver.department)));
  assert.ok(!g.all("member").map(normalizeDN).includes(normalizeDN(personDN(leaver))), "no longer a member");
  assert.ok(g.all("member").length > 0, "the others stay");

  const again = await ex.cycle();
  assert.equal(again.changed, false, "the delete is confirmed and nothing else changes");
});

// Known engine gap (see the issue note): references to a deleted metaverse object are not cleared
// in the objects that hold them, so the reports keep the leaver's DN as their manager.
test("the reports of a leaver lose their manager value", async () => {
  const hr = ex.hr();
  const manager = hr.find((r) => r.status === "active" && hr.some((x) => x.managerId === r.employeeId && x.status === "active" && x.employeeId !== "E000001") && r.employeeId !== "E000001")!;
  const reports = hr.filter((r) => r.managerId === manager.employeeId && r.status === "active");
  leave([manager.employeeId]);
  assert.equal((await ex.cycle()).status, "success");
  for (const r of reports) {
    const [e] = await ex.search(PEOPLE, `(employeeNumber=${r.employeeId})`, ["manager"]);
    assert.equal(e.get("manager"), undefined, `${r.employeeId} has no manager any more`);
  }
});

test("a full cycle removes the leaver's DN from the reports' manager", async () => {
  const hr = ex.hr();
  const gone = new Set(hr.filter((r) => r.status === "leaver").map((r) => r.employeeId));
  assert.equal((await ex.engine.cycle({ full: true })).status, "success");
  const reports = hr.filter((r) => gone.has(r.managerId) && r.status === "active");
  assert.ok(reports.length > 0);
  for (const r of reports) {
    const [e] = await ex.search(PEOPLE, `(employeeNumber=${r.employeeId})`, ["manager"]);
    assert.equal(e.get("manager"), undefined, `${r.employeeId} has no manager any more`);
  }
});
