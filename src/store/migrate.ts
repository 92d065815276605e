// Versioned migrations: numbered SQL files in ./migrations, applied in order, each once, each in a
// transaction. An advisory lock keeps two operator replicas from migrating the same database at once.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Database } from "./db.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));
const LOCK_KEY = 7_220_301; // arbitrary, constant: "idsync migrations"

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.split("_")[0]),
      name: f.replace(/^\d+_|\.sql$/g, ""),
      sql: readFileSync(MIGRATIONS_DIR + f, "utf8"),
    }));
}

export async function migrate(db: Database): Promise<number[]> {
  await db.exec(
    `create table if not exists idsync_migration (version integer primary key, name text not null, applied_at timestamptz not null default now())`,
  );
  const applied: number[] = [];
  for (const m of listMigrations()) {
    const done = await db.transaction(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock($1)`, [LOCK_KEY]);
      const seen = await tx.query(`select 1 from idsync_migration where version = $1`, [m.version]);
      if (seen.rows.length > 0) return false;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query(`insert into idsync_migration (version, name) values ($1, $2)`, [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** Splits a migration into statements: ours have no semicolons or '--' inside strings or bodies. */
function splitStatements(sql: string): string[] {
  return sql
    .split("\n")
    .map((l) => l.replace(/--.*$/, ""))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
