// Shared set-up for the GitOps tests: the quick start copied to a temp dir, synchronized once into a
// fresh PostgreSQL test database, so a plan or a drift report has real state to work on.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { loadConfigDirectory } from "../../src/config/index.ts";
import type { ConfigSet } from "../../src/config/model.ts";
import { openEngine, type Engine } from "../../src/engine/index.ts";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";

const QUICKSTART = new URL("../../examples/quickstart/", import.meta.url).pathname;
const BIN = new URL("../../bin/idsync.js", import.meta.url).pathname;

export interface Synced {
  /** The copied quick start: YAML files and data/. */
  dir: string;
  /** The PostgreSQL URL ("" when embedded). */
  url: string;
  db: Database;
  engine: Engine;
  /** Loads (and validates) the CRs in dir as they are now. */
  config(): Promise<ConfigSet>;
  /** Rewrites rules.yaml (or another file) in dir. */
  edit(file: string, change: (text: string) => string): void;
  close(): Promise<void>;
}

/**
 * The quick start, applied and synchronized (import, sync, export, confirming import), on a
 * PostgreSQL test database or (embedded: true) on PGlite under a temp data directory.
 */
export async function syncedQuickstart(opts: { embedded?: boolean } = {}): Promise<Synced> {
  const root = mkdtempSync(join(tmpdir(), "idsync-gitops-"));
  const dir = join(root, "quickstart");
  cpSync(QUICKSTART, dir, { recursive: true, filter: (p) => !p.endsWith("directory.csv") });
  const pg = opts.embedded ? { url: "", drop: async () => {} } : await testDatabase("gitops");
  const db = await openDatabase(opts.embedded ? { dataDir: join(root, "state") } : { url: pg.url });
  const engine = await openEngine({ database: db });
  const config = async () => {
    const loaded = await loadConfigDirectory(dir);
    if (!loaded.config) throw new Error(`quick start copy is invalid: ${JSON.stringify(loaded.errors)}`);
    return loaded.config;
  };
  await engine.apply(await config());
  const cycle = await engine.cycle();
  if (cycle.status !== "success") throw new Error(`set-up cycle: ${cycle.status}`);
  return {
    dir,
    url: pg.url,
    db,
    engine,
    config,
    edit(file, change) {
      const path = join(dir, file);
      writeFileSync(path, change(readFileSync(path, "utf8")));
    },
    async close() {
      await engine.close();
      await pg.drop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The outbound rule of the quick start: Sales leaves its scope (deletes), displayName is reformatted. */
export function salesLeaveAndDisplayNameChanges(text: string): string {
  const out = text
    .replace("scope: 'has(mv.employeeId)'", `scope: 'has(mv.employeeId) && mv.department != "Sales"'`)
    .replace("{target: displayName, expression: mv.displayName}", `{target: displayName, expression: 'mv.sn + ", " + mv.givenName'}`);
  if (out === text) throw new Error("the quick start's rules.yaml changed: update the test edit");
  return out;
}

/**
 * A checksum of every row of every table in the public schema, and of the list of relations there:
 * equal checksums mean equal contents. Sequences are not compared: Postgres never rolls them back.
 */
export async function rowChecksums(db: Database): Promise<Record<string, string>> {
  const tables = (
    await db.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public' order by 1`)
  ).rows.map((r) => r.name);
  const out: Record<string, string> = {};
  for (const t of tables) {
    const r = await db.query<{ sum: string | null; n: number }>(`select md5(string_agg(x::text, E'\\n' order by x::text)) as sum, count(*) as n from "${t}" x`);
    out[t] = `${r.rows[0].n}:${r.rows[0].sum ?? "empty"}`;
  }
  const relations = await db.query<{ names: string }>(
    `select string_agg(c.relname || ':' || c.relkind::text, ',' order by c.relname) as names
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`,
  );
  out["(relations)"] = relations.rows[0].names;
  return out;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI (bin/idsync.js) in a child process. */
export async function idsync(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, IDSYNC_DATABASE_URL: "", CI: "1", ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: typeof err.code === "number" ? err.code : 1, stdout: err.stdout, stderr: err.stderr };
  }
}
