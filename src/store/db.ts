// One small database interface over two drivers: a PostgreSQL server through `pg` (server mode) and
// PGlite, Postgres compiled to WebAssembly, under a data directory (the embedded default). The engine
// writes one dialect of SQL and runs on both; nothing above this file knows which one it has.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import pg from "pg";
import { lockEmbeddedDirectory } from "./embedded-lock.ts";
import { migrate } from "./migrate.ts";
import {
  DatabaseUnavailableError,
  describePostgresError,
  postgresConnectionConfig,
  resolveTimeouts,
  type PostgresConnectionOptions,
  type PostgresTimeouts,
} from "./pgconfig.ts";

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

export interface Database extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** The schema this Database lives in, when it has one of its own (OpenDatabaseOptions.schema). */
  readonly scope?: string;
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
  /**
   * A connection of its own, outside the pool, for session-level state that must live as long as a
   * run: the run locks (src/store/lock.ts). Server mode only: the embedded database has a single
   * connection and is kept to one process by a lock file instead.
   */
  openSession?(): Promise<DedicatedSession>;
}

/** One connection of its own; `lost` turns true when the server or the network drops it. */
export interface DedicatedSession extends Queryable {
  readonly lost: boolean;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgres://… ; when absent, the embedded PGlite under dataDir is used. */
  url?: string;
  /** Directory of the embedded database; default ".idsync". */
  dataDir?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Embedded database: how long to wait for another process to let go of the data directory (default 0). */
  lockWaitMs?: number;
  /** Server mode: connect and statement timeouts (defaults in pgconfig.ts); the embedded database has none. */
  timeouts?: PostgresTimeouts;
  /**
   * A PostgreSQL schema of its own, created if missing: every table, index, function, migration and
   * run lock of this Database lives in it, apart from any other schema's (one Kubernetes namespace's
   * engine: schemaForNamespace). Lower-case letters, digits and underscores; not pg_*.
   */
  schema?: string;
}

/** The schema of one Kubernetes namespace's engine: a name PostgreSQL accepts unquoted, distinct per namespace. */
export function schemaForNamespace(namespace: string): string {
  // Namespaces are DNS labels ([a-z0-9-], at most 63): "-" to "_" is one-to-one, as "_" never occurs.
  const plain = `idsync_${namespace.replace(/-/g, "_")}`;
  if (plain.length <= 63) return plain;
  const hash = createHash("sha256").update(namespace).digest("hex").slice(0, 10);
  return `${plain.slice(0, 52)}_${hash}`;
}

const SCHEMA = /^(?!pg_)[a-z_][a-z0-9_]{0,62}$/;

// int8 (count(*), bigserial ids) as JS numbers: ids stay far below 2^53.
const INT8 = 20;
const NUMERIC = 1700;
pg.types.setTypeParser(INT8, (v: string) => Number(v));

export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<Database> {
  if (opts.schema !== undefined && !SCHEMA.test(opts.schema)) throw new Error(`'${opts.schema}' is not a schema name idsync uses ([a-z_][a-z0-9_]*, not pg_*)`);
  const db = opts.url ? await openPostgres(opts.url, opts.timeouts, opts.schema) : await openPGlite(opts.dataDir ?? ".idsync", opts.lockWaitMs, opts.schema);
  if (opts.migrate !== false) {
    try {
      await migrate(db);
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
  }
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

/** How long close() waits for the server to acknowledge the goodbye before cutting the connections. */
const CLOSE_GRACE_MS = 2_000;
/** The statement timeout of a dedicated session (openSession), at most. */
const SESSION_STATEMENT_TIMEOUT_MS = 30_000;

async function openPostgres(url: string, timeouts?: PostgresTimeouts, schema?: string): Promise<Database> {
  const description = redactUrl(url) + (schema ? ` (schema ${schema})` : "");
  const settings = { ...resolveTimeouts(timeouts), schema };
  const pool = new pg.Pool({ ...postgresConnectionConfig(url, settings), max: 4 });
  // An idle client whose server goes away emits 'error' through the pool; unheard, that event would
  // crash the process. Nothing to do here: the next query fails and says what happened.
  pool.on("error", () => {});
  // The open connections, for close(): a stalled server never acknowledges a goodbye.
  const clients = new Set<pg.Client>();
  const sessions = new Set<DedicatedSession>();
  pool.on("connect", (c) => clients.add(c));
  pool.on("remove", (c) => clients.delete(c));
  // A driver error that means "the database is unusable" becomes one clear line (pgconfig.ts).
  const explain = (e: unknown) => describePostgresError(e, description, settings) ?? e;
  const wrap = (c: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R>(sql: string, params?: unknown[]) {
      try {
        const r = await c.query(sql, params as unknown[]);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      } catch (e) {
        throw explain(e);
      }
    },
  });
  const root = wrap(pool);
  const db: Database = {
    kind: "postgres",
    scope: schema,
    description,
    query: root.query,
    simulate: (fn) => rolledBack((body) => db.transaction(body), (tx) => fn(savepointView("postgres", description, tx))),
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw explain(e);
      }
      // A checked-out client is not heard by the pool: if its server goes away mid-transaction, its
      // 'error' event would crash the process without this listener. The failing query reports it.
      const ignore = () => {};
      client.on("error", ignore);
      let broken: Error | undefined;
      try {
        const tx = wrap(client);
        await tx.query("BEGIN");
        const result = await fn(tx);
        await tx.query("COMMIT");
        return result;
      } catch (e) {
        // Only the queries' own errors are explained (by wrap): anything else fn throws, a connector's
        // "connection refused" for one, is not the database's and passes through as it is.
        if (e instanceof DatabaseUnavailableError && e.connectionBroken) {
          // Closed, or a query still stuck on it: a ROLLBACK would fail, or wait out the same timeout
          // again. Dropping the connection rolls the transaction back just as well.
          broken = e;
        } else {
          await client.query("ROLLBACK").catch((r: Error) => (broken = r));
        }
        throw e;
      } finally {
        client.removeListener("error", ignore);
        client.release(broken); // with an error: the pool discards the connection
      }
    },
    async exec(sql) {
      await root.query(sql);
    },
    async openSession() {
      // Its statements are tiny (take, record and release a lock): a short limit keeps a stalled
      // server from holding up a run's end for a whole statement timeout more.
      const statementTimeoutMs = settings.statementTimeoutMs === 0 ? 0 : Math.min(settings.statementTimeoutMs, SESSION_STATEMENT_TIMEOUT_MS);
      const session = await openDedicatedSession(url, description, { ...settings, statementTimeoutMs });
      sessions.add(session);
      return session;
    },
    async close() {
      // Never throws and never hangs: close() runs in `finally` blocks after the database failed,
      // where an error of its own would hide the one that matters. Sessions go too: an open one
      // would keep the process alive (and hold its locks) after everything else was closed.
      await Promise.all([...sessions].map((s) => s.close().catch(() => undefined)));
      sessions.clear();
      await endWithin(CLOSE_GRACE_MS, pool.end().catch(() => undefined), clients);
    },
  };
  if (schema !== undefined) {
    try {
      await root.query(`create schema if not exists ${schema}`);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  return db;
}

async function openDedicatedSession(url: string, description: string, timeouts: PostgresConnectionOptions): Promise<DedicatedSession> {
  const explain = (e: unknown) => describePostgresError(e, description, timeouts) ?? e;
  const client = new pg.Client(postgresConnectionConfig(url, timeouts));
  let lost = false;
  client.on("error", () => {
    lost = true;
  });
  client.on("end", () => {
    lost = true;
  });
  try {
    await client.connect();
  } catch (e) {
    throw explain(e);
  }
  return {
    get lost() {
      return lost;
    },
    async query<R>(sql: string, params?: unknown[]) {
      try {
        const r = await client.query(sql, params as unknown[]);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
      } catch (e) {
        const explained = explain(e);
        if (explained instanceof DatabaseUnavailableError && explained.connectionBroken && !lost) {
          // A query that timed out is still stuck on the connection: everything after it would wait
          // behind it. The session is lost (and so is what it holds, once the server notices).
          lost = true;
          cut(client);
        }
        throw explained;
      }
    },
    async close() {
      if (lost) return;
      lost = true;
      await endWithin(CLOSE_GRACE_MS, client.end().catch(() => undefined), [client]);
    },
  };
}

/** Closes a connection's socket at once, without the goodbye a stalled server never acknowledges. */
function cut(c: pg.Client): void {
  (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/**
 * Waits for `ending` (pool.end() or client.end()) at most graceMs, then cuts the sockets of
 * `clients`: a stalled server never acknowledges a goodbye, and close() must not hang on it.
 */
async function endWithin(graceMs: number, ending: Promise<unknown>, clients: Iterable<pg.Client>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ending, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
  for (const c of clients) cut(c);
}

async function openPGlite(dataDir: string, lockWaitMs?: number, schema?: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  // Before PGlite touches the directory: a second process would corrupt it (embedded-lock.ts).
  const dirLock = await lockEmbeddedDirectory(dataDir, lockWaitMs);
  const { PGlite } = await import("@electric-sql/pglite");
  let lite: InstanceType<typeof PGlite>;
  try {
    lite = await PGlite.create(dataDir, {
      parsers: { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v) },
    });
  } catch (e) {
    dirLock.release();
    throw e;
  }
  const wrap = (c: { query: typeof lite.query }): Queryable => ({
    async query<R>(sql: string, params?: unknown[]) {
      const r = await c.query<R>(sql, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
  });
  const root = wrap(lite);
  const db: Database = {
    kind: "pglite",
    scope: schema,
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
      try {
        await lite.close();
      } finally {
        dirLock.release();
      }
    },
  };
  if (schema !== undefined) {
    // One connection: the search_path set once holds for everything this Database runs.
    await lite.exec(`create schema if not exists ${schema}; set search_path to ${schema}`);
  }
  return db;
}
