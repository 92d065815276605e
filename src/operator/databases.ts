// Where each namespace's engine keeps its state: with a PostgreSQL URL, a schema of its own on that
// database (schemaForNamespace: idsync_<namespace>, "-" as "_"); embedded, a PGlite directory of
// its own, <data-dir>/namespaces/<namespace>. Every table, function, migration and run lock of a
// namespace lives there, so two namespaces share nothing but the server.
//
// The embedded directories are one level down, under namespaces/, because <data-dir> itself may be
// the embedded database of an installation from before (or of the CLI, whose default is the same
// .idsync): a namespace named `base` or `global` must not open PGlite inside that database's files.
//
// State from before namespaces were separate (one engine for all, in the default schema or directly
// in <data-dir>) is neither used nor migrated: it holds no namespace, and guessing whose it is could
// hand one team's connector spaces to another. legacyState() finds it so the operator can say so;
// the README ("One engine per namespace") tells how to adopt it by hand.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, schemaForNamespace, type Database } from "../store/db.ts";
import type { PostgresTimeouts } from "../store/pgconfig.ts";

export interface NamespaceStorage {
  /** PostgreSQL URL; absent: the embedded database, one per namespace under dataDir. */
  url?: string;
  dataDir?: string;
  timeouts?: PostgresTimeouts;
}

/** A Kubernetes namespace name (a DNS label): anything else never becomes a schema or a path. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const DEFAULT_DATA_DIR = ".idsync";

/** Where the embedded databases of all namespaces are. */
export function embeddedRoot(dataDir: string | undefined): string {
  return join(dataDir ?? DEFAULT_DATA_DIR, "namespaces");
}

export function embeddedDirectory(dataDir: string | undefined, namespace: string): string {
  return join(embeddedRoot(dataDir), namespace);
}

/** Opens (creating and migrating if new) the database of one namespace's engine. */
export async function openNamespaceDatabase(storage: NamespaceStorage, namespace: string): Promise<Database> {
  if (!NAMESPACE.test(namespace)) throw new Error(`'${namespace}' is not a namespace name`);
  return storage.url
    ? openDatabase({ url: storage.url, schema: schemaForNamespace(namespace), timeouts: storage.timeouts })
    : openDatabase({ dataDir: embeddedDirectory(storage.dataDir, namespace) });
}

/**
 * The PostgreSQL server itself (its default schema, nothing created, nothing migrated): what
 * /readyz asks, and where state from before namespaces were separate would be found.
 */
export async function openServer(storage: NamespaceStorage & { url: string }): Promise<Database> {
  const db = await openDatabase({ url: storage.url, timeouts: storage.timeouts, migrate: false });
  try {
    await db.query("select 1"); // the pool connects lazily: this is the reachability test
    return db;
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** A sentence about state from before namespaces were separate, if there is some; else undefined. */
export async function legacyState(storage: NamespaceStorage, server: Database | undefined): Promise<string | undefined> {
  const advice = 'it is not used and not migrated: see "One engine per namespace" in the README to adopt it';
  if (!server) {
    const dir = storage.dataDir ?? DEFAULT_DATA_DIR;
    return existsSync(join(dir, "PG_VERSION")) ? `the embedded database in ${dir} holds state from before each namespace had its own engine; ${advice}` : undefined;
  }
  const found = await server.query<{ schema: string; tables: number }>(
    `select current_schema() as schema, count(*)::int as tables from information_schema.tables where table_schema = current_schema() and table_name = 'applied_config'`,
  );
  const { schema, tables } = found.rows[0] ?? { schema: "public", tables: 0 };
  if (tables === 0) return undefined;
  const applied = (await server.query<{ n: number }>(`select count(*)::int as n from "${schema.replace(/"/g, '""')}".applied_config`)).rows[0]?.n ?? 0;
  if (applied === 0) return undefined;
  return `schema ${schema} holds the state of ${applied} resources applied before each namespace had its own engine (schema idsync_<namespace>); ${advice}`;
}
