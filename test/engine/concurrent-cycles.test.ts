// Two `idsync cycle` processes started together on one fresh database leave it exactly as one
// cycle does: run locks keep them from staging, joining and provisioning the same people twice.
// With --lock-wait the second waits its turn; without, it stops with a message naming the holder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";
import { people, writeHrCsv } from "../../bench/hr-data.ts";
import { copyQuickstart, idsync, type Exit } from "./cli-process.ts";
import { normalizedState } from "./state.ts";

async function counts(db: Database): Promise<Record<string, number>> {
  const n = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0].n;
  return {
    metaverse: await n(`select count(*) as n from mv_object`),
    connectorSpace: await n(`select count(*) as n from cs_object`),
    withoutAnchor: await n(`select count(*) as n from cs_object where anchor is null`),
    emptyMetaverse: await n(`select count(*) as n from mv_object m where not exists (select 1 from cs_object c where c.mv_id = m.id)`),
    twoConnectorsInOneMa: await n(`select count(*) as n from (select mv_id, ma from cs_object where mv_id is not null group by mv_id, ma having count(*) > 1) x`),
    pendingExports: await n(`select count(*) as n from pending_export`),
    running: await n(`select count(*) as n from run_history where status = 'running'`),
  };
}

/** The quick start with 5,000 people: a cycle long enough for a second process to meet it. */
async function example(root: string): Promise<string> {
  const dir = copyQuickstart(root);
  await writeHrCsv(join(dir, "data", "hr.csv"), people(5000));
  return dir;
}

/** Starts a cycle, and a second one once the first holds a run lock: they surely overlap. */
async function twoAtOnce(url: string, args: string[]): Promise<Exit[]> {
  const first = idsync(["--database", url, ...args]);
  const db = await openDatabase({ url });
  try {
    for (let i = 0; i < 600; i++) {
      const held = await db.query(`select 1 from run_history where status = 'running' limit 1`).catch(() => ({ rows: [] }));
      if (held.rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await db.close();
  }
  return Promise.all([first, idsync(["--database", url, ...args])]);
}

async function snapshot(url: string) {
  const db = await openDatabase({ url });
  try {
    return { state: await normalizedState(db), counts: await counts(db) };
  } finally {
    await db.close();
  }
}

test("two cycles at once on one database end where one cycle ends", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "idsync-concurrent-"));
  const ref = await testDatabase("concurrent_ref");
  const waiting = await testDatabase("concurrent_wait");
  const failing = await testDatabase("concurrent_fail");
  t.after(async () => {
    await ref.drop();
    await waiting.drop();
    await failing.drop();
    rmSync(root, { recursive: true, force: true });
  });

  const refDir = await example(join(root, "ref"));
  const single = await idsync(["--database", ref.url, "cycle", "-f", refDir]);
  assert.equal(single.code, 0, single.stderr);
  const expected = await snapshot(ref.url);
  assert.equal(expected.counts.emptyMetaverse, 0);
  const directory = readFileSync(join(refDir, "data", "directory.csv"), "utf8");

  await t.test("with --lock-wait, both finish and the state is one cycle's", async () => {
    const dir = await example(join(root, "wait"));
    const both = await twoAtOnce(waiting.url, ["--lock-wait", "5m", "cycle", "-f", dir]);
    for (const r of both) assert.ok(r.code === 0, `exit ${r.code}: ${r.stderr}`);
    const got = await snapshot(waiting.url);
    assert.deepEqual(got.counts, expected.counts);
    assert.deepEqual(got.state, expected.state);
    assert.equal(readFileSync(join(dir, "data", "directory.csv"), "utf8"), directory);
  });

  await t.test("without it, the second stops with who holds the run, and nothing is corrupted", async () => {
    const dir = await example(join(root, "fail"));
    const both = await twoAtOnce(failing.url, ["cycle", "-f", dir]);
    const stopped = both.filter((r) => r.code === 1);
    assert.equal(stopped.length, 1, `the second is stopped: ${both.map((r) => `${r.code} ${r.stderr}`).join(" | ")}`);
    for (const r of stopped) {
      assert.match(
        r.stderr,
        /^error: (MA \S+ is being run|the metaverse is being synchronized) by idsync \(pid \d+ on [^)]+\) \([a-z-]+ (of \S+|configuration)\) since \d{4}-\d\d-\d\dT[\d:.]+Z; stopped before/m,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
    // Whatever each got done is consistent: one more cycle ends exactly where a single one does.
    const again = await idsync(["--database", failing.url, "cycle", "-f", dir]);
    assert.ok(again.code === 0, again.stderr);
    const got = await snapshot(failing.url);
    assert.deepEqual(got.counts, expected.counts);
    assert.deepEqual(got.state, expected.state);
    assert.equal(readFileSync(join(dir, "data", "directory.csv"), "utf8"), directory);
  });
});
