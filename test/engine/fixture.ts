// A throwaway engine for a test: a fresh database (PostgreSQL from the test harness), a temp
// directory for the CSV files of an HR source and a directory target, and configuration builders.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HR_COLUMNS, readCsv, writeCsv } from "./builders.ts";
import { openEngine, type Engine } from "../../src/engine/index.ts";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";

export interface TestEngine {
  engine: Engine;
  db: Database;
  dir: string;
  writeHr(rows: Array<Record<string, string>>): void;
  readDirectory(): Array<Record<string, string>>;
  close(): Promise<void>;
}

export async function openTestEngine(opts: { now?: () => Date; dir?: string; batchSize?: number } = {}): Promise<TestEngine> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "idsync-engine-"));
  const pg = await testDatabase();
  const db = await openDatabase({ url: pg.url });
  const engine = await openEngine({ database: db, now: opts.now, batchSize: opts.batchSize ?? 50 });
  return {
    engine,
    db,
    dir,
    writeHr(rows) {
      writeCsv(join(dir, "hr.csv"), HR_COLUMNS, rows);
    },
    readDirectory() {
      return readCsv(join(dir, "directory.csv"));
    },
    async close() {
      await engine.close();
      await pg.drop();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export * from "./builders.ts";
