// A populated engine for the personal-data tests: twelve people from HR provisioned into the
// directory, one of them (E0007, "the subject") with values nobody else has, who manages E0008 and
// E0009, and who once caused a run error (imported twice). Plus a scan of every table's every row.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HR_COLUMNS, person, readCsv, standardConfig, writeCsv } from "../engine/builders.ts";
import type { TestEngine } from "../engine/fixture.ts";
import { testDatabase } from "../harness/postgres.ts";
import { openEngine } from "../../src/engine/index.ts";
import { openDatabase, type Queryable } from "../../src/store/index.ts";

export const SUBJECT_ANCHOR = "E0007";

/** Values only the subject has (their anchor, names, department, display name). */
export const SUBJECT_VALUES = ["E0007", "Zerlinda", "Quaintrelle", "Cartography-77", "Zerlinda Quaintrelle"];

export function people(): Array<Record<string, string>> {
  return Array.from({ length: 12 }, (_, i) => {
    const n = i + 1;
    if (n === 7) return person(7, { givenName: "Zerlinda", sn: "Quaintrelle", department: "Cartography-77", managerId: "E0001" });
    if (n === 8 || n === 9) return person(n, { managerId: SUBJECT_ANCHOR });
    return person(n);
  });
}

/** test/engine/fixture.ts's engine, plus the database URL (for the CLI). */
export interface PrivacyTestEngine extends TestEngine {
  url: string;
}

export async function openPrivacyEngine(opts: { now?: () => Date } = {}): Promise<PrivacyTestEngine> {
  const dir = mkdtempSync(join(tmpdir(), "idsync-privacy-"));
  const pg = await testDatabase("privacy");
  const db = await openDatabase({ url: pg.url });
  const engine = await openEngine({ database: db, now: opts.now, batchSize: 50 });
  return {
    engine,
    db,
    dir,
    url: pg.url,
    writeHr: (rows) => writeCsv(join(dir, "hr.csv"), HR_COLUMNS, rows),
    readDirectory: () => readCsv(join(dir, "directory.csv")),
    async close() {
      await engine.close();
      await pg.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function populatedEngine(opts: { now?: () => Date } = {}): Promise<PrivacyTestEngine> {
  const t = await openPrivacyEngine({ now: opts.now });
  const all = people();
  t.writeHr(all);
  await t.engine.apply(standardConfig(t.dir));
  await t.engine.run("hr", "full-import");
  // Then the subject's row twice, which leaves run errors naming their anchor.
  t.writeHr([...all, all[6]]);
  await t.engine.run("hr", "full-import");
  t.writeHr(all);
  const cycle = await t.engine.cycle();
  if (cycle.status === "failed") throw new Error(`setup cycle failed: ${JSON.stringify(cycle.runs.map((r) => r.message))}`);
  return t;
}

export async function mvIdOf(db: Queryable, employeeId: string): Promise<number> {
  const r = await db.query<{ id: number }>(`select id from mv_object where attrs->>'employeeId' = $1`, [employeeId]);
  if (r.rows.length !== 1) throw new Error(`expected one metaverse object for ${employeeId}, found ${r.rows.length}`);
  return r.rows[0].id;
}

/** Every base table of the schema, each row as text (the whole row, every column). */
export async function dumpAllTables(db: Queryable): Promise<Map<string, string[]>> {
  const tables = (
    await db.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
    )
  ).rows.map((r) => r.table_name);
  const out = new Map<string, string[]>();
  for (const t of tables) {
    const rows = (await db.query<{ row: string }>(`select t::text as row from "${t}" t order by 1`)).rows.map((r) => r.row);
    out.set(t, rows);
  }
  return out;
}

/** Where (table and row) each value occurs, case-insensitively. */
export function occurrences(dump: Map<string, string[]>, values: string[]): string[] {
  const found: string[] = [];
  for (const [table, rows] of dump) {
    for (const row of rows) {
      const lower = row.toLowerCase();
      for (const v of values) if (lower.includes(v.toLowerCase())) found.push(`${table}: '${v}' in ${row.slice(0, 300)}`);
    }
  }
  return found;
}

const bin = new URL("../../bin/idsync.js", import.meta.url).pathname;

/** Runs the real CLI against the test database; stdin is a pipe (not a terminal). */
export async function idsync(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, "--database", url, ...args], { env: { ...process.env, USER: "cli-tester" } }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}
