// The HR → OpenLDAP example end to end through the real CLI (bin/idsync.js), as its README runs it:
// the bind password in IDSYNC_SECRET_LDAP_BIND_PASSWORD, state in PostgreSQL. Verified with
// OpenLDAP's own ldapsearch: every person with the right DN and attributes, managers as DNs,
// a groupOfNames per department with its members; a second cycle changes nothing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { departmentsOf } from "../../examples/hr-to-openldap/departments.ts";
import { GROUPS, groupDN, inScope, PEOPLE, personDN, startExample, type Example } from "./helpers.ts";

const bin = new URL("../../bin/idsync.js", import.meta.url).pathname;

let ex: Example;
before(async () => {
  ex = await startExample();
});
after(async () => {
  await ex?.close();
});

async function idsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, IDSYNC_SECRET_LDAP_BIND_PASSWORD: ex.slapd.password, IDSYNC_DATABASE_URL: ex.database.url };
  try {
    const r = await promisify(execFile)(process.execPath, [bin, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test("the example provisions people, managers and department groups into OpenLDAP", async () => {
  const first = await idsync(["cycle", "-f", ex.config]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.ok(!(first.stdout + first.stderr).includes(ex.slapd.password), "the bind password is never printed");

  const hr = ex.hr();
  const staff = hr.filter(inScope);
  const byId = new Map(hr.map((r) => [r.employeeId, r]));
  const people = ex.byDN(await ex.search(PEOPLE, "(objectClass=inetOrgPerson)", ["*", "entryUUID"]));
  assert.equal(people.size, staff.length, "one entry per active or on-leave person, nobody else");

  for (const r of staff) {
    const e = people.get(normalizeDN(personDN(r)));
    assert.ok(e, `${r.employeeId} is at ${personDN(r)}`);
    assert.equal(e.get("cn"), `${r.givenName} ${r.sn} (${r.employeeId})`);
    assert.equal(e.get("displayName"), `${r.givenName} ${r.sn}`);
    assert.equal(e.get("givenName"), r.givenName);
    assert.equal(e.get("sn"), r.sn);
    assert.equal(e.get("uid"), r.employeeId.toLowerCase());
    assert.equal(e.get("employeeNumber"), r.employeeId);
    assert.equal(e.get("title"), r.title);
    assert.equal(e.get("departmentNumber"), r.department);
    assert.equal(e.get("mail"), `${r.employeeId.toLowerCase()}@${r.employeeType === "contractor" ? "partners.example.org" : "example.org"}`);
    // The manager as a DN, when the manager is someone with an entry; nothing otherwise.
    const manager = r.managerId ? byId.get(r.managerId) : undefined;
    if (manager && inScope(manager)) assert.equal(normalizeDN(e.get("manager") ?? ""), normalizeDN(personDN(manager)), `${r.employeeId}'s manager`);
    else assert.equal(e.get("manager"), undefined, `${r.employeeId} has no manager with an entry`);
  }
  assert.ok(staff.some((r) => r.sn === "O'Brien, Jr."), "the data has a name with a comma");

  const groups = ex.byDN(await ex.search(GROUPS, "(objectClass=groupOfNames)", ["cn", "member", "description"]));
  const departments = departmentsOf((await import("node:fs")).readFileSync(`${ex.dir}/quickstart/data/hr.csv`, "utf8"));
  assert.equal(groups.size, departments.length, "a group per department");
  for (const d of departments) {
    const g = groups.get(normalizeDN(groupDN(d.name)));
    assert.ok(g, `group ${d.name}`);
    assert.equal(g.get("cn"), d.name);
    assert.deepEqual(
      g.all("member").map(normalizeDN).sort(),
      d.members.map((id) => normalizeDN(personDN(byId.get(id)!))).sort(),
      `members of ${d.name}`,
    );
  }

  const second = await idsync(["cycle", "-f", ex.config]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /No changes: everything is in sync\./);
  const json = JSON.parse((await idsync(["-o", "json", "cycle"])).stdout);
  assert.equal(json.changed, false);
  assert.equal(json.runs.filter((r: { profile: string }) => r.profile === "export").length, 0, "nothing left to export");

  // Same entries, same entryUUIDs: nothing was re-created.
  const again = ex.byDN(await ex.search(PEOPLE, "(objectClass=inetOrgPerson)", ["entryUUID"]));
  for (const [dn, e] of people) assert.equal(again.get(dn)?.get("entryUUID"), e.get("entryUUID"));
});
