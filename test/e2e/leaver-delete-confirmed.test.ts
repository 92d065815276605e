// A leaver's entry deleted through a slapd WITHOUT accesslog: a delta import there never reports a
// deletion, so only the export itself can confirm the delete — by the server's success answer (or
// noSuchObject: already gone). Right after the cycle, with no full import, the delete is settled:
// no pending export is left for the entry and `idsync drift` finds no data drift (exit 0), instead
// of `[delete, unconfirmed]` and exit 2 until someone ran a full import.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { idsync } from "../gitops/helpers.ts";
import { countsOf, PEOPLE, startExample, type Example, type HrRow } from "./helpers.ts";

let ex: Example;
let db: Database;
before(async () => {
  ex = await startExample({ people: 60 });
  assert.equal(ex.slapd.accesslogBase, undefined, "no accesslog: delta imports cannot see deletions");
  assert.equal((await ex.cycle()).status, "success");
  db = await openDatabase({ url: ex.database.url });
});
after(async () => {
  await db?.close();
  await ex?.close();
});

async function driftCli(): Promise<{ code: number; report: { summary: { dataDrift: number; configDrift: number }; data?: { managementAgents: unknown[] } } }> {
  const r = await idsync(["--database", ex.database.url, "-o", "json", "drift", "-f", ex.config]);
  assert.notEqual(r.code, 1, r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) };
}

test("a leaver's delete is confirmed by the export: no pending export, no drift, without a full import", async () => {
  assert.equal((await driftCli()).code, 0, "no drift to begin with");
  const hr = ex.hr();
  const managers = new Set(hr.map((r) => r.managerId));
  const leaver = hr.find((r) => r.status === "active" && !managers.has(r.employeeId)) as HrRow;
  assert.ok(leaver, "an active person who manages nobody");
  const [entry] = await ex.search(PEOPLE, `(employeeNumber=${leaver.employeeId})`, ["entryUUID"]);
  const cs = (await db.query<{ id: number }>(`select id from cs_object where ma = 'directory' and anchor = $1`, [entry.get("entryUUID")])).rows;
  assert.equal(cs.length, 1, "the entry is in the directory's connector space");

  ex.writeHr(hr.map((r) => (r.employeeId === leaver.employeeId ? { ...r, status: "leaver" } : r)));
  const result = await ex.cycle();
  assert.equal(result.status, "success", JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.message, r.errors.slice(0, 2)])));
  const imports = result.runs.filter((r) => r.profile.endsWith("import"));
  assert.ok(imports.length > 0 && imports.every((r) => r.profile === "delta-import"), "delta imports only");
  const exported = countsOf(result, "directory", "export");
  assert.equal(exported.deletes, 1, "one delete exported");
  assert.equal(exported.confirmed, 1, "confirmed by the server's answer");
  assert.equal((await ex.search(PEOPLE, `(employeeNumber=${leaver.employeeId})`)).length, 0, "the entry is gone");

  const pending = (await db.query(`select op, state from pending_export where cs_id = $1`, [cs[0].id])).rows;
  assert.deepEqual(pending, [], "nothing pending or unconfirmed for the deleted entry");
  const unconfirmed = (await db.query(`select cs_id from pending_export where ma = 'directory' and state = 'unconfirmed'`)).rows;
  assert.deepEqual(unconfirmed, []);

  const { code, report } = await driftCli();
  assert.equal(report.summary.dataDrift, 0, JSON.stringify(report.data));
  assert.deepEqual(report.data?.managementAgents, []);
  assert.equal(code, 0, "idsync drift: no drift");

  assert.equal((await ex.cycle()).changed, false, "nothing left to do");
});

test("a delete of an entry that is already gone (noSuchObject) is confirmed too", async () => {
  const hr = ex.hr();
  const managers = new Set(hr.map((r) => r.managerId));
  const leaver = hr.find((r) => r.status === "active" && !managers.has(r.employeeId)) as HrRow;
  const [entry] = await ex.search(PEOPLE, `(employeeNumber=${leaver.employeeId})`, ["entryUUID"]);
  const [{ id }] = (await db.query<{ id: number }>(`select id from cs_object where ma = 'directory' and anchor = $1`, [entry.get("entryUUID")])).rows;
  // Someone deletes the entry by hand; the engine cannot know (no accesslog, no full import).
  await ex.slapd.cli("ldapdelete", [entry.dn]);

  ex.writeHr(hr.map((r) => (r.employeeId === leaver.employeeId ? { ...r, status: "leaver" } : r)));
  const result = await ex.cycle();
  assert.equal(result.status, "success", JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.message, r.errors.slice(0, 2)])));
  const exported = countsOf(result, "directory", "export");
  assert.equal(exported.deletes, 1);
  assert.equal(exported.confirmed, 1);
  assert.deepEqual((await db.query(`select op, state from pending_export where cs_id = $1`, [id])).rows, []);
  const { code, report } = await driftCli();
  assert.equal(report.summary.dataDrift, 0, JSON.stringify(report.data));
  assert.equal(code, 0);
});
