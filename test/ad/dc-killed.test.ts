// The domain controller dies in the middle of an export: the run ends failed, saying the DC is
// out of reach, with every change it did not make still pending; once the DC is back the next
// cycle finishes the job, and nobody ends up with two accounts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { readFileSync } from "node:fs";
import { Client } from "ldapts";
import { describeRuns, PEOPLE, startAdExample, type AdExample } from "./helpers.ts";

let ex: AdExample;
before(async () => {
  ex = await startAdExample({ people: 150 });
});
after(async () => {
  await ex?.close();
});

async function countUsers(client: Client): Promise<number> {
  const res = await client.search(PEOPLE, { scope: "sub", filter: "(objectClass=user)", attributes: ["1.1"], paged: { pageSize: 500 } });
  return res.searchEntries.length;
}

test("a DC killed mid-export leaves the rest pending, and the next cycle completes without duplicates", async () => {
  const watcher = new Client({ url: ex.dc.url, tlsOptions: { ca: [readFileSync(ex.dc.caFile)] }, timeout: 5000, connectTimeout: 5000 });
  await watcher.bind(ex.dc.adminDN, ex.dc.adminPassword);
  const cycle = ex.cycle();
  // Kill it once a few dozen accounts exist: well inside the export of about 150 users and 9 groups.
  let seen = 0;
  for (let i = 0; i < 600 && seen < 25; i++) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await countUsers(watcher).catch(() => seen);
  }
  await watcher.unbind().catch(() => undefined);
  await ex.dc.kill();
  const interrupted = await cycle;
  assert.equal(interrupted.status, "failed", describeRuns(interrupted));
  const exportRun = interrupted.runs.find((r) => r.ma === "directory" && r.profile === "export")!;
  assert.match(exportRun.message ?? "", /Active Directory ldaps:\/\/127\.0\.0\.\d+:636/, "names the DC");
  assert.doesNotMatch(JSON.stringify(interrupted), new RegExp(ex.dc.adminPassword.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "never the password");
  const pending = await ex.engine.database.query<{ n: number }>(`select count(*)::int as n from pending_export where ma = 'directory'`);
  assert.ok(pending.rows[0].n > 0, "unexported changes are still pending");

  await ex.dc.start();
  const resumed = await ex.cycle();
  assert.equal(resumed.status, "success", describeRuns(resumed));
  const staff = ex.hr().filter((r) => r.status === "active" || r.status === "leave");
  const users = await ex.search(PEOPLE, "(objectClass=user)", ["employeeID", "sAMAccountName"]);
  assert.equal(users.length, staff.length, "one account per person");
  assert.equal(new Set(users.map((u) => u.get("employeeID"))).size, staff.length, "no duplicates");
  assert.equal(new Set(users.map((u) => u.get("sAMAccountName")?.toLowerCase())).size, staff.length, "unique account names");
  const again = await ex.cycle();
  assert.equal(again.changed, false, describeRuns(again));
});
