// Two `idsync cycle` processes at once against a real OpenLDAP target: without run locks both
// provisioned the same people (two entries, two connectors per MA, connector rows without anchor)
// and every later cycle failed on the anchor index. With them, the result is one clean directory.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { people } from "../../bench/hr-data.ts";
import { openDatabase } from "../../src/store/index.ts";
import { idsync, type Exit } from "../engine/cli-process.ts";
import { inScope, PEOPLE, startExample, type Example, type HrRow } from "./helpers.ts";

let ex: Example;
before(async () => {
  ex = await startExample();
  // Enough people that a cycle lasts long enough for a second process to meet it.
  ex.writeHr([...people(3000)] as HrRow[]);
});
after(async () => {
  await ex?.close();
});

function cycle(extra: string[] = []): Promise<Exit> {
  return idsync(["--database", ex.database.url, ...extra, "cycle", "-f", ex.config], { env: { IDSYNC_SECRET_LDAP_BIND_PASSWORD: ex.slapd.password } });
}

test("two cycles at once provision each person once, and later cycles converge", async () => {
  const first = cycle(["--lock-wait", "5m"]);
  const db = await openDatabase({ url: ex.database.url });
  try {
    for (let i = 0; i < 600 && (await db.query(`select 1 from run_history where status = 'running'`)).rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const both = await Promise.all([first, cycle(["--lock-wait", "5m"])]);
    for (const r of both) assert.equal(r.code, 0, r.stderr);

    const n = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0].n;
    assert.equal(await n(`select count(*) as n from (select mv_id, ma from cs_object where mv_id is not null group by mv_id, ma having count(*) > 1) x`), 0, "no metaverse object has two connectors in one MA");
    assert.equal(await n(`select count(*) as n from cs_object where anchor is null`), 0, "every connector has its anchor");
    assert.equal(await n(`select count(*) as n from mv_object m where not exists (select 1 from cs_object c where c.mv_id = m.id)`), 0, "no empty metaverse object");
    assert.equal(await n(`select count(*) as n from pending_export where state <> 'unconfirmed'`), 0, "nothing left to export");
    const expected = ex.hr().filter(inScope).length;
    assert.equal(await n(`select count(*) as n from mv_object where object_type = 'person' and deleted_at is null`), expected);
    assert.equal((await ex.search(PEOPLE, "(objectClass=inetOrgPerson)", ["1.1"])).length, expected, "one entry per person");

    const again = await cycle();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /No changes: everything is in sync\./);
  } finally {
    await db.close();
  }
});
