// A run whose process is killed (kill -9) cannot write its own end. It must not stay `running` in
// history forever: the next run of its MA, which holds the same lock, marks it `abandoned`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { people, writeHrCsv } from "../../bench/hr-data.ts";
import { openDatabase } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";
import type { ChildProcess } from "node:child_process";
import { copyQuickstart, idsync } from "./cli-process.ts";

test("the next run marks a killed run abandoned", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "idsync-abandoned-"));
  const pg = await testDatabase("abandoned");
  const db = await openDatabase({ url: pg.url });
  t.after(async () => {
    await db.close();
    await pg.drop();
    rmSync(root, { recursive: true, force: true });
  });
  const dir = copyQuickstart(root);
  await writeHrCsv(join(dir, "data", "hr.csv"), people(5000));

  let child: ChildProcess | undefined;
  const killed = idsync(["--database", pg.url, "cycle", "-f", dir], { onSpawn: (c) => (child = c) });
  let running: Array<{ id: number; ma: string }> = [];
  for (let i = 0; i < 600 && running.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    running = (await db.query<{ id: number; ma: string }>(`select id, ma from run_history where status = 'running'`)).rows;
  }
  assert.equal(running.length, 1, "caught a run in flight");
  child!.kill("SIGKILL");
  const exit = await killed;
  assert.equal(exit.signal, "SIGKILL");
  const stuck = (await db.query<{ status: string }>(`select status from run_history where id = $1`, [running[0].id])).rows[0];
  assert.equal(stuck.status, "running", "a killed run cannot record its end");

  const next = await idsync(["--database", pg.url, "cycle", "-f", dir]);
  assert.equal(next.code, 0, next.stderr);
  const after = (await db.query<{ status: string; message: string; finished_at: Date | null }>(`select status, message, finished_at from run_history where id = $1`, [running[0].id])).rows[0];
  assert.equal(after.status, "abandoned");
  assert.ok(after.finished_at, "it has an end time");
  assert.match(after.message, /ended before it finished/);
  assert.equal((await db.query(`select 1 from run_history where status = 'running'`)).rows.length, 0, "nothing stays running");

  const history = await idsync(["--database", pg.url, "history", "--ma", running[0].ma]);
  assert.match(history.stdout, /abandoned/);
});
