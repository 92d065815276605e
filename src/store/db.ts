// One small database interface over two drivers: a PostgreSQL server through `pg` (server mode) and
// PGlite, Postgres compiled to WebAssembly, under a data directory (the embedded default). The engine
// writes one dialect of SQL and runs on both; nothing above this file knows which one it has.
import { mkdirSync } from "node:fs";
import pg from "pg";
import { migrate } from "./migrate.ts";

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** A description safe to print: the password of a URL is never part of it. */
  readonly description: string;
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs several statements separated by semicolons (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs fn against a view of this database inside ONE transaction that is always rolled back:
   * everything fn (and the engine it drives) writes is visible to fn and to nobody else, and is gone
   * afterwards. Nested transactions become savepoints. Used by `idsync plan` to simulate a sync.
   */
  simulate<T>(fn: (view: Database) => Promise<T>): Promise<T>;
}

export interface OpenDatabaseOptions {
  /** postgres://… ; when absent, the embedded PGlite under dataDir is used. */
  url?: string;
  /** Directory of the embedded database; default ".idsync". */
  dataDir?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
}

// int8 (count(*), bigserial ids) as JS numbers: ids stay far below 2^53.
const INT8 = 20;
const NUMERIC = 1700;
pg.types.setTypeParser(INT8, (v: string) => Number(v));

export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Database> {
  const db = opts.url ? await openPostgres(opts.url) : await openPGlite(opts.dataDir ?? ".idsync");
  if (opts.migrate !== false) await migrate(db);
  return db;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "postgres://(unparseable URL)";
  }
}

class Rollback extends Error {}

/** A Database over one open transaction: nested transactions are savepoints; close() is a no-op. */
function savepointView(kind: Database["kind"], description: string, q: Queryable): Database {
  let n = 0;
  const view: Database = {
    kind,
    description: `${description} (simulation, rolled back)`,
    query: q.query,
    async transaction(fn) {
      const name = `idsync_sp_${++n}`;
      await q.query(`savepoint ${name}`);
      try {
        const result = await fn(q);
        await q.query(`release savepoint ${name}`);
        return result;
      } catch (e) {
        await q.query(`rollback to savepoint ${name}`).catch(() => {});
        throw e;
      }
    },
    async exec(sql) {
      await q.query(sql);
    },
    async close() {},
    simulate: (fn) => fn(view),
  };
  return view;
}

async function rolledBack<T>(run: (fn: (tx: Queryable) => Promise<void>) => Promise<unknown>, body: (tx: Queryable) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await run(async (tx) => {
      result = await body(tx);
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  return result as T;
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // Without a listener an idle-client error (server restart) would crash the process.
  pool.on("error", () => {});
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R>(sql: string, params?: unknown[]) {
      const r = await c.query(sql, params as unknown[]);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
  });
  const root = wrap(pool);
  const db: Database = {
    kind: "postgres",
    description: redactUrl(url),
    query: root.query,
    simulate: (fn) => rolledBack((body) => db.transaction(body), (tx) => fn(savepointView("postgres", redactUrl(url), tx))),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(wrap(client));
        await client.query("COMMIT");
        return result;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    async close() {
      await pool.end();
    },
  };
  return db;
}

async function openPGlite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const { PGlite } = await import("@electric-sql/pglite");
  const lite = await PGlite.create(dataDir, {
    parsers: { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v) },
  });
  const wrap = (c: { query: typeof lite.query }): Queryable => ({
    async query<R>(sql: string, params?: unknown[]) {
      const r = await c.query<R>(sql, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
  });
  const root = wrap(lite);
  const db: Database = {
    kind: "pglite",
    description: `embedded database in ${dataDir}`,
    query: root.query,
    simulate: (fn) => rolledBack((body) => db.transaction(body), (tx) => fn(savepointView("pglite", `embedded database in ${dataDir}`, tx))),
    async transaction(fn) {
      return lite.transaction(async (tx) => fn(wrap(tx)));
    },
    async exec(sql) {
      await lite.exec(sql);
    },
    async close() {
      await lite.close();
    },
  };
  return db;
}
