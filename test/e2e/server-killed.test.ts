// slapd killed (SIGKILL) in the middle of the example's first export: the run ends with a clear
// error, every change not exported stays pending, and after a restart the next cycle finishes the
// job: every person exactly once (adds whose answer was lost are recognized, not repeated), every
// department group complete, and a further cycle has nothing to do.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "ldapts";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { people } from "../../bench/hr-data.ts";
import { GROUPS, inScope, PEOPLE, personDN, startExample, type Example, type HrRow } from "./helpers.ts";

const N = 3000;
let ex: Example;
before(async () => {
  ex = await startExample();
  ex.writeHr([...people(N, 7)].map((p) => ({ ...p }) as HrRow));
});
after(async () => {
  await ex?.close();
});

/** Resolves once the entry exists (polled as the rootdn, a few ms apart). */
async function waitForEntry(dn: string): Promise<void> {
  const client = new Client({ url: ex.slapd.url });
  await client.bind(ex.slapd.rootDN, ex.slapd.rootPassword);
  try {
    for (;;) {
      try {
        const r = await client.search(dn, { scope: "base", attributes: ["1.1"] });
        if (r.searchEntries.length === 1) return;
      } catch {
        /* not there yet */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

test("the server killed mid-export: clear error, nothing lost, the next run finishes the job", async () => {
  const { engine } = ex;
  for (const ma of ["hr", "hr-departments", "directory"]) assert.equal((await engine.run(ma, "full-import")).status, "success");
  for (const ma of ["hr", "hr-departments", "directory"]) assert.equal((await engine.run(ma, "full-sync")).status, "success");
  const planned = await engine.status("directory");
  const total = planned.pendingExports.adds;
  const staff = ex.hr().filter(inScope);
  assert.ok(total > staff.length, `every person and group is to be added (${total})`);

  // The add a tenth of the way through the export's order.
  const marker = (
    await engine.database.query<{ dn: string }>(
      `select c.dn from pending_export p join cs_object c on c.id = p.cs_id where p.ma = 'directory' and p.op = 'add' order by p.cs_id offset $1 limit 1`,
      [Math.floor(total / 10)],
    )
  ).rows[0].dn;
  const exporting = engine.run("directory", "export");
  await waitForEntry(marker);
  ex.slapd.kill();
  const failed = await exporting;

  assert.equal(failed.status, "failed");
  assert.match(failed.message ?? "", /directory is unavailable: .*ldap:\/\/127\.0\.0\.1:\d+.*; \d+ export\(s\) stay pending/);
  assert.ok(!(failed.message ?? "").includes(ex.slapd.password), "no secret in the message");
  const stopped = await engine.status("directory");
  assert.ok(stopped.pendingExports.adds > 0, "unexported adds stay pending");
  assert.ok(stopped.pendingExports.unconfirmed > 0, "the adds that completed are recorded");
  assert.equal(stopped.pendingExports.adds + stopped.pendingExports.unconfirmed, total, "every add is either pending or exported");
  assert.equal(failed.counts.exported, stopped.pendingExports.unconfirmed);
  assert.match(failed.message ?? "", new RegExp(`; ${stopped.pendingExports.adds} export\\(s\\) stay pending`));

  // The server still down: the next run says so and loses nothing either.
  const down = await engine.run("directory", "export");
  assert.equal(down.status, "failed");
  assert.equal((await engine.status("directory")).pendingExports.adds, stopped.pendingExports.adds);

  await ex.slapd.restart();
  const resumed = await engine.cycle();
  assert.equal(resumed.status, "success", JSON.stringify(resumed.runs.filter((r) => r.status !== "success").map((r) => [r.ma, r.profile, r.message, r.errors.slice(0, 3)])));
  assert.deepEqual(resumed.runs.flatMap((r) => r.errors), [], "no object errors: nothing refused as already there");

  const entries = await ex.search(PEOPLE, "(objectClass=inetOrgPerson)", ["employeeNumber", "entryUUID"]);
  assert.equal(entries.length, staff.length, "every person exactly once");
  const byDn = ex.byDN(entries);
  for (const r of staff) assert.equal(byDn.get(normalizeDN(personDN(r)))?.get("employeeNumber"), r.employeeId);
  const groups = await ex.search(GROUPS, "(objectClass=groupOfNames)", ["cn", "member"]);
  const departments = new Set(staff.map((r) => r.department));
  assert.equal(groups.length, departments.size);
  for (const g of groups) {
    const members = staff.filter((r) => r.department === g.get("cn")).map((r) => normalizeDN(personDN(r)));
    assert.deepEqual(g.all("member").map(normalizeDN).sort(), members.sort(), `members of ${g.get("cn")}`);
  }
  const settled = await engine.status("directory");
  assert.deepEqual(settled.pendingExports, { adds: 0, updates: 0, deletes: 0, errors: 0, unconfirmed: 0 });
  assert.equal((await engine.cycle()).changed, false);
});
