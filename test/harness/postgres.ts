// Test harness: real PostgreSQL databases for tests.
//
// testDatabase() gives each caller its own empty database, so test files can share one server and
// still run in parallel. The server is the one `npm test` started (scripts/test.mjs hands it down in
// IDSYNC_TEST_DATABASE_URL), or any server you point that variable at; when a test file runs on its
// own (`node --import tsx --test test/x.test.ts`) this process starts one lazily and stops it on exit.
//
// Admin connections are opened per call and closed right after: a connection left open would keep
// the test process alive after its last test.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { startPostgres, type PostgresServer } from "./postgres-server.mjs";

export { startPostgres, type PostgresServer };

export interface TestDatabase {
  /** Connection URL of the new database (the server's URL with the database name replaced). */
  url: string;
  /** Name of the database, idsync_test_[<name>_]<random>. */
  name: string;
  /** Drops the database, disconnecting whoever is still connected; safe to call twice. */
  drop(): Promise<void>;
}

let ownServer: Promise<PostgresServer> | undefined;

/** The server URL tests create their databases on: the handed-down one, or a per-process server. */
async function serverUrl(): Promise<string> {
  const handed = process.env.IDSYNC_TEST_DATABASE_URL;
  if (handed) return handed;
  ownServer ??= startPostgres();
  try {
    return (await ownServer).url;
  } catch (err) {
    ownServer = undefined; // let the next caller try again rather than replay the failure
    throw err;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = "/" + encodeURIComponent(database);
  return u.toString();
}

/** Runs one statement on the server URL's own database (`postgres` for ours) with a short-lived client. */
async function admin(serverURL: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverURL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh, empty database for one test (or one test file).
 * @param name optional hint that goes into the database name, e.g. the test's name
 */
export async function testDatabase(name?: string): Promise<TestDatabase> {
  const server = await serverUrl();
  const hint = (name ?? "").toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 30);
  const dbName = `idsync_test_${hint ? hint + "_" : ""}${randomBytes(6).toString("hex")}`;
  // The name is generated from [a-z0-9_] only, so quoting it is enough.
  await admin(server, `CREATE DATABASE "${dbName}"`);
  let dropped = false;
  return {
    url: withDatabase(server, dbName),
    name: dbName,
    async drop() {
      if (dropped) return;
      dropped = true;
      // WITH (FORCE) (PostgreSQL 13+) ends connections a test forgot to close instead of failing.
      await admin(server, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    },
  };
}
