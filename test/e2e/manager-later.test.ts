// A reference waits for the referenced entry: a person whose manager is still a pre-hire (filtered
// out of the metaverse) gets no manager value; once the manager starts and is provisioned, the
// report's manager is the manager's DN, and the manager joins the department group.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { GROUPS, PEOPLE, personDN, startExample, type Example, type HrRow } from "./helpers.ts";

const boss: HrRow = { employeeId: "E000921", givenName: "Vera", sn: "Núñez", department: "Legal", title: "Manager", managerId: "E000001", status: "pending", employeeType: "employee" };
const report: HrRow = { employeeId: "E000922", givenName: "José", sn: "Silva", department: "Legal", title: "Associate", managerId: boss.employeeId, status: "active", employeeType: "employee" };

let ex: Example;
before(async () => {
  ex = await startExample({ people: 20 });
  ex.writeHr([...ex.hr(), boss, report]);
  assert.equal((await ex.cycle()).status, "success");
});
after(async () => {
  await ex?.close();
});

test("the manager value appears once the manager's entry exists", async () => {
  const [r] = await ex.search(PEOPLE, `(employeeNumber=${report.employeeId})`, ["manager"]);
  assert.ok(r, "the report is provisioned without waiting");
  assert.equal(r.get("manager"), undefined, "no manager while the manager has no entry");
  assert.equal((await ex.search(PEOPLE, `(employeeNumber=${boss.employeeId})`)).length, 0, "a pre-hire has no entry");

  ex.writeHr(ex.hr().map((x) => (x.employeeId === boss.employeeId ? { ...x, status: "active" } : x)));
  const result = await ex.cycle();
  assert.equal(result.status, "success");
  const [b] = await ex.search(PEOPLE, `(employeeNumber=${boss.employeeId})`);
  assert.equal(normalizeDN(b.dn), normalizeDN(personDN(boss)));
  const [after] = await ex.search(PEOPLE, `(employeeNumber=${report.employeeId})`, ["manager"]);
  assert.equal(normalizeDN(after.get("manager")!), normalizeDN(personDN(boss)), "the manager's DN");
  const [legal] = await ex.search(GROUPS, "(cn=Legal)", ["member"]);
  assert.ok(legal.all("member").map(normalizeDN).includes(normalizeDN(personDN(boss))));
  assert.equal((await ex.cycle()).changed, false);
});
