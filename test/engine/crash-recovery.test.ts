// A crash at any point loses nothing. `idsync cycle` is killed (SIGKILL) again and again, each
// process resuming where the last one died, at 20 points aimed at start-up, import, sync and
// export; then a cycle runs to the end. The result equals an uninterrupted run's, and a further
// cycle changes nothing.
//
// The kills are aimed, not timed from the start (kill-points.ts): the test watches the database and
// kills a chosen delay into the aimed run, sometimes waiting for a write transaction to be open.
// 6,000 people make every phase last a while; with 200 objects per batch each sync phase commits 30
// transactions. (The CSV connector stages its imports 1,000 rows a transaction whatever the batch
// size, and its export writes the file once and records it in one transaction.) Where each kill
// really landed is read back (the run it left `running`) and printed; the test fails if fewer than
// 4 landed in any of import, sync and export, rather than silently testing less.
//
// Two chains, each on its own database: an export that completes ends every export and its pass 2
// is the only second pass there will be, while an export killed after writing the file leaves no
// export to complete. So chain A goes through start-up, import, sync and an export killed at every
// stage; chain B lets its export complete and is killed in the second pass and the confirming imports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { people, writeHrCsv } from "../../bench/hr-data.ts";
import { openDatabase } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";
import { copyQuickstart, idsync } from "./cli-process.ts";
import { killCycleAt, type KillPoint, type Landing } from "./kill-points.ts";
import { normalizedState, type NormalizedState } from "./state.ts";

const PEOPLE = 6000;
/** Small batches for the killed processes (and the reference, same env): many batch boundaries and transactions. */
const ENV = { IDSYNC_BATCH_SIZE: "200" };

const hr = { ma: "hr" } as const;
const directory = { ma: "directory" } as const;

/** Chain A: from a fresh database through start-up, import and sync, to an export killed at every stage. */
const CHAIN_A: KillPoint[] = [
  { name: "migrations, in a transaction", phase: "start-up", aim: { at: "session", afterMs: 0, inTransaction: true } },
  { name: "apply, after the migrations", phase: "start-up", aim: { at: "migrated", afterMs: 30 } },
  { name: "hr full-import, first batches", phase: "import", aim: { at: "run", ...hr, kind: "import", afterMs: 30 } },
  { name: "hr full-import, in a batch", phase: "import", aim: { at: "run", ...hr, kind: "import", afterMs: 100, inTransaction: true } },
  { name: "hr full-sync, link", phase: "sync", aim: { at: "run", ...hr, kind: "sync", stage: "link", afterMs: 300 } },
  { name: "hr full-sync, link, in a batch", phase: "sync", aim: { at: "run", ...hr, kind: "sync", stage: "link", afterMs: 500, inTransaction: true } },
  { name: "hr full-sync, settle", phase: "sync", aim: { at: "run", ...hr, kind: "sync", stage: "settle", afterMs: 200 } },
  { name: "hr full-sync, settle, in a batch", phase: "sync", aim: { at: "run", ...hr, kind: "sync", stage: "settle", afterMs: 500, inTransaction: true } },
  { name: "directory full-sync, link, in a batch", phase: "sync", aim: { at: "run", ...directory, kind: "sync", stage: "link", afterMs: 300, inTransaction: true } },
  { name: "export, at its start", phase: "export", aim: { at: "run", ...directory, kind: "export", afterMs: 0 } },
  { name: "export, before writing", phase: "export", aim: { at: "run", ...directory, kind: "export", afterMs: 60 } },
  { name: "export, file written, recording", phase: "export", aim: { at: "run", ...directory, kind: "export", stage: "written", afterMs: 0, inTransaction: true } },
  { name: "directory import of the written file", phase: "import", aim: { at: "run", ...directory, kind: "import", afterMs: 150 } },
  { name: "directory sync after it, in a batch", phase: "sync", aim: { at: "run", ...directory, kind: "sync", afterMs: 100, inTransaction: true } },
];

/** Chain B: an export that completes, then the second pass and the imports that confirm it. */
const CHAIN_B: KillPoint[] = [
  { name: "directory full-sync, settle, in a batch", phase: "sync", aim: { at: "run", ...directory, kind: "sync", stage: "settle", afterMs: 600, inTransaction: true } },
  { name: "export, at its start", phase: "export", aim: { at: "run", ...directory, kind: "export", afterMs: 0 } },
  { name: "export, before writing", phase: "export", aim: { at: "run", ...directory, kind: "export", afterMs: 80 } },
  { name: "pass 2: directory import, confirming", phase: "import", aim: { at: "run", ...directory, kind: "import", pass: 2, afterMs: 100 } },
  { name: "directory import, confirming", phase: "import", aim: { at: "run", ...directory, kind: "import", afterMs: 150 } },
  { name: "directory import, confirming, in a batch", phase: "import", aim: { at: "run", ...directory, kind: "import", afterMs: 300, inTransaction: true } },
];

/** What differs, in a few lines: which objects (a handful of examples each), not a 10,000-line diff. */
function stateDifferences(got: NormalizedState, want: NormalizedState): string {
  const out: string[] = [];
  for (const part of ["metaverse", "connectorSpaces", "pendingExports"] as const) {
    const a: Record<string, unknown> = got[part];
    const b: Record<string, unknown> = want[part];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k]));
    if (keys.length === 0) continue;
    out.push(`${part}: ${keys.length} differ`);
    for (const k of keys.slice(0, 3)) out.push(`  ${k}: got ${JSON.stringify(a[k]) ?? "nothing"}, expected ${JSON.stringify(b[k]) ?? "nothing"}`);
  }
  return out.join("\n");
}

function csvDifferences(got: string, want: string): string {
  const a = new Set(got.split("\n"));
  const b = new Set(want.split("\n"));
  const missing = [...b].filter((l) => !a.has(l));
  const extra = [...a].filter((l) => !b.has(l));
  return `${missing.length} line(s) missing (${missing.slice(0, 3).join(" | ")}), ${extra.length} extra (${extra.slice(0, 3).join(" | ")})`;
}

function describe(l: Landing): string {
  const where = `${l.run ?? l.phase}${l.stage ? `, ${l.stage}` : ""}`;
  const off = l.phase !== l.aimed ? ` [aimed at ${l.aimed}]` : "";
  return `${l.point.padEnd(42)} → ${where}${l.inTransaction ? ", in a transaction" : ""}${l.intoMs !== undefined ? ` (+${l.intoMs} ms)` : ""}${off}`;
}

test("a cycle killed at 20 points across start-up, import, sync and export converges to the uninterrupted result", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "idsync-crash-"));
  const databases = [await testDatabase("crash_ref"), await testDatabase("crash_a"), await testDatabase("crash_b")];
  const [refDb, dbA, dbB] = databases;
  t.after(async () => {
    for (const d of databases) await d.drop();
    rmSync(root, { recursive: true, force: true });
  });
  const example = async (where: string) => {
    const dir = copyQuickstart(join(root, where));
    await writeHrCsv(join(dir, "data", "hr.csv"), people(PEOPLE));
    return dir;
  };
  const cycle = (url: string, dir: string) => idsync(["--database", url, "cycle", "-f", dir], { env: ENV });
  const stateOf = async (url: string): Promise<NormalizedState> => {
    const db = await openDatabase({ url });
    try {
      return await normalizedState(db);
    } finally {
      await db.close();
    }
  };

  const refDir = await example("ref");
  const ref = await cycle(refDb.url, refDir);
  assert.equal(ref.code, 0, ref.stderr);
  const expected = await stateOf(refDb.url);
  const expectedCsv = readFileSync(join(refDir, "data", "directory.csv"), "utf8");

  const landings: Landing[] = [];
  const chain = async (name: string, url: string, points: KillPoint[]) => {
    const dir = await example(name);
    const here: Landing[] = [];
    for (const point of points) {
      const landing = await killCycleAt(url, ["--database", url, "cycle", "-f", dir], point, {
        env: ENV,
        watch: join(dir, "data", "directory.csv"),
        firstMa: "hr",
      });
      here.push(landing);
      landings.push(landing);
      t.diagnostic(`${name} ${describe(landing)}`);
      if (landing.phase === "not reached") {
        const last = (landing.exit.code === 0 ? landing.exit.stdout : landing.exit.stderr || landing.exit.stdout).trim().split("\n").pop();
        t.diagnostic(`  the cycle ended by itself (exit ${landing.exit.code}): ${last}`);
      }
    }

    const finish = await cycle(url, dir);
    assert.ok(finish.code === 0 || finish.code === 2, `the resumed cycle ends normally (exit ${finish.code}): ${finish.stdout}${finish.stderr}`);
    const again = await cycle(url, dir);
    assert.equal(again.code, 0, `a further cycle is clean: ${again.stdout}${again.stderr}`);
    assert.match(again.stdout, /No changes: everything is in sync\./);

    const csv = readFileSync(join(dir, "data", "directory.csv"), "utf8");
    assert.ok(csv === expectedCsv, `directory.csv differs from the uninterrupted run's: ${csvDifferences(csv, expectedCsv)}`);
    const state = await stateOf(url);
    assert.equal(stateDifferences(state, expected), "", "the state is the uninterrupted run's");
    assert.deepEqual(state, expected);

    const db = await openDatabase({ url });
    try {
      const history = (await db.query<{ id: number; status: string }>(`select id::int, status from run_history order by id`)).rows;
      assert.deepEqual(history.filter((r) => r.status === "running"), [], "no run stays running");
      assert.ok(history.some((r) => r.status === "abandoned"), "the killed runs are marked abandoned");
      for (const l of here.filter((x) => x.runId !== undefined)) {
        assert.equal(history.find((r) => r.id === l.runId)?.status, "abandoned", `the run killed at "${l.point}" (${l.run}) is abandoned`);
      }
    } finally {
      await db.close();
    }
  };

  await t.test("chain A: start-up, import, sync, export", () => chain("A", dbA.url, CHAIN_A));
  await t.test("chain B: a completed export, the second pass, the confirming imports", () => chain("B", dbB.url, CHAIN_B));

  // The kills must really land in the phases, not drift off to wherever the timing puts them.
  assert.equal(landings.length, 20);
  const hits = (phase: string) => landings.filter((l) => l.phase === phase).length;
  for (const phase of ["import", "sync", "export"]) {
    assert.ok(hits(phase) >= 4, `at least 4 kills landed in ${phase}, not ${hits(phase)}:\n${landings.map(describe).join("\n")}`);
  }
});
