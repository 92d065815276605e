// The example's first cycle against a real Samba AD DC: users under OU=People with their names,
// sAMAccountName, UPN and manager DN, enabled, with a password set in the add (the account can
// bind) and pwdLastSet 0 (must change it at first logon); a global security group per department
// whose members are the users' DNs. Checked with OpenLDAP's ldapsearch over LDAPS. The anchors the
// engine keeps are the objectGUIDs in AD's string form, and a second cycle changes nothing.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, InvalidCredentialsError } from "ldapts";
import { readFileSync } from "node:fs";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { countsOf, describeRuns, GROUPS, guidOf, INITIAL_PASSWORD, PEOPLE, startAdExample, type AdExample } from "./helpers.ts";

let ex: AdExample;
before(async () => {
  ex = await startAdExample({ people: 40 });
});
after(async () => {
  await ex?.close();
});

test("the first cycle provisions users and groups, and the second changes nothing", async () => {
  const first = await ex.cycle();
  assert.equal(first.status, "success", describeRuns(first));
  const staff = ex.hr().filter((r) => r.status === "active" || r.status === "leave");
  const exported = countsOf(first, "directory", "export");
  assert.equal(exported.adds, staff.length + new Set(staff.map((r) => r.department)).size, describeRuns(first));

  const users = await ex.search(PEOPLE, "(objectClass=user)", ["sAMAccountName", "userPrincipalName", "employeeID", "manager", "userAccountControl", "pwdLastSet", "displayName", "mail"]);
  assert.equal(users.length, staff.length);
  const byId = new Map(users.map((u) => [u.get("employeeID"), u]));
  const ben = byId.get("E000001")!;
  assert.equal(ben.get("sAMAccountName"), "bandersson");
  assert.equal(ben.get("userPrincipalName"), "e000001@sync.test");
  assert.equal(ben.get("displayName"), "Ben Andersson");
  assert.equal(Number(ben.get("userAccountControl")) & 2, 0, "enabled");
  assert.equal(Number(ben.get("userAccountControl")) & 0x200, 0x200, "a normal account");
  assert.equal(ben.get("pwdLastSet"), "0", "must change the password at first logon");
  const noah = byId.get("E000002")!;
  assert.equal(noah.get("manager")?.toLowerCase(), ben.dn.toLowerCase(), "manager is the manager's DN");

  const sales = await ex.search(GROUPS, "(sAMAccountName=grp-sales)", ["member", "groupType"]);
  assert.equal(sales.length, 1);
  assert.equal(sales[0].get("groupType"), "-2147483646");
  const salesStaff = staff.filter((r) => r.department === "Sales").map((r) => byId.get(r.employeeId)!.dn.toLowerCase()).sort();
  assert.deepEqual(sales[0].all("member").map((m) => m.toLowerCase()).sort(), salesStaff);

  // The engine's anchor is the objectGUID in AD's string form.
  const kept = await ex.engine.database.query<{ anchor: string }>(`select anchor from cs_object where ma = 'directory' and dn_norm = $1`, [normalizeDN(ben.dn)]);
  assert.equal(kept.rows.length, 1, "the engine knows Ben's account");
  assert.equal(kept.rows[0].anchor, await guidOf(ex, ben.dn));

  const again = await ex.cycle();
  assert.equal(again.changed, false, describeRuns(again));
});

test("a provisioned user got its password in the add: it binds, and AD says it must change it", async () => {
  const [ben] = await ex.search(PEOPLE, "(employeeID=E000001)", ["userPrincipalName"]);
  const client = new Client({ url: ex.dc.url, tlsOptions: { ca: [readFileSync(ex.dc.caFile)] } });
  // data 773: the password was right, and the account must set a new one (pwdLastSet 0).
  await assert.rejects(client.bind("bandersson@sync.test", INITIAL_PASSWORD), (err: unknown) => err instanceof InvalidCredentialsError && /data 773/.test((err as Error).message));
  await assert.rejects(client.bind("bandersson@sync.test", INITIAL_PASSWORD + "x"), (err: unknown) => err instanceof InvalidCredentialsError && /data 52e/.test((err as Error).message));
  await client.unbind();
  assert.ok(ben);
});
