// deprovision: disable with deprovisionFlows and deprovisionDN: a leaver's account is disabled
// (ACCOUNTDISABLE set, every other userAccountControl bit kept) and moved to OU=Disabled, the
// same object (objectGUID); when the person comes back, the normal dn and flows move it back and
// enable it. A rename is a modifyDN that keeps the objectGUID too.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { escapeFilterValue } from "../../src/expr/dn.ts";
import { describeRuns, DISABLED, guidOf, PEOPLE, startAdExample, type AdExample, type HrRow } from "./helpers.ts";

const DONT_EXPIRE_PASSWORD = 0x10000;
let ex: AdExample;
let who: HrRow;
before(async () => {
  ex = await startAdExample({ people: 30 });
  const first = await ex.cycle();
  assert.equal(first.status, "success", describeRuns(first));
  // Someone with nobody reporting to them (a manager's leaving changes others too; not this test's point).
  const hr = ex.hr();
  who = hr.filter((r) => r.status === "active").reverse().find((r) => !hr.some((o) => o.managerId === r.employeeId))!;
});
after(async () => {
  await ex?.close();
});

async function account(): Promise<{ dn: string; uac: number; guid: string }> {
  const found = await ex.search(`OU=idsync,${"DC=sync,DC=test"}`, `(employeeID=${who.employeeId})`, ["userAccountControl"]);
  assert.equal(found.length, 1, `one account for ${who.employeeId}`);
  return { dn: found[0].dn, uac: Number(found[0].get("userAccountControl")), guid: await guidOf(ex, found[0].dn) };
}

const setStatus = (status: string) => ex.writeHr(ex.hr().map((r) => (r.employeeId === who.employeeId ? { ...r, status } : r)));

test("a leaver is disabled and moved to OU=Disabled, keeping other account flags and the GUID", async () => {
  const before = await account();
  assert.match(before.dn, new RegExp(`,${PEOPLE}$`, "i"));
  // An administrator set "password never expires": disabling must not clear it.
  await ex.dc.ldapmodify([`dn: ${before.dn}`, "changetype: modify", "replace: userAccountControl", `userAccountControl: ${before.uac | DONT_EXPIRE_PASSWORD}`, ""].join("\n"));

  setStatus("leaver");
  const result = await ex.cycle();
  assert.equal(result.status, "success", describeRuns(result));
  const after = await account();
  assert.match(after.dn, new RegExp(`,${DISABLED}$`, "i"), "moved");
  assert.equal(after.guid, before.guid, "the same object");
  assert.equal(after.uac & 2, 2, "disabled");
  assert.equal(after.uac & DONT_EXPIRE_PASSWORD, DONT_EXPIRE_PASSWORD, "other bits kept");
  const groups = await ex.search(`OU=Groups,OU=idsync,DC=sync,DC=test`, `(member=${escapeFilterValue(after.dn)})`, ["1.1"]);
  assert.equal(groups.length, 0, "no longer in a department group");
  assert.equal((await ex.cycle()).changed, false, "settled");
});

test("back in scope: moved back and enabled", async () => {
  setStatus("active");
  const result = await ex.cycle();
  assert.equal(result.status, "success", describeRuns(result));
  const back = await account();
  assert.match(back.dn, new RegExp(`,${PEOPLE}$`, "i"));
  assert.equal(back.uac & 2, 0, "enabled");
  assert.equal(back.uac & DONT_EXPIRE_PASSWORD, DONT_EXPIRE_PASSWORD);
  assert.equal((await ex.cycle()).changed, false, "settled");
});

test("a rename is a modifyDN of the same object", async () => {
  const before = await account();
  ex.writeHr(ex.hr().map((r) => (r.employeeId === who.employeeId ? { ...r, sn: "Renamed-Lind" } : r)));
  const result = await ex.cycle();
  assert.equal(result.status, "success", describeRuns(result));
  const after = await account();
  assert.match(after.dn, /^CN=[^,]+ Renamed-Lind \(E\d+\),OU=People/i);
  assert.equal(after.guid, before.guid);
  const [group] = await ex.search(`OU=Groups,OU=idsync,DC=sync,DC=test`, `(sAMAccountName=grp-${who.department.toLowerCase().replace(/[^a-z0-9]+/g, "-")})`, ["member"]);
  assert.ok(group.all("member").some((m) => m.toLowerCase() === after.dn.toLowerCase()), "still a member, under the new DN");
  assert.equal((await ex.cycle()).changed, false, "settled");
});
