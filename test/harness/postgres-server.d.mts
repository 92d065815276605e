// Types for postgres-server.mjs (plain JS so that scripts/test.mjs can use it without tsx).

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres — superuser `postgres`, trust auth, loopback only. */
  url: string;
  port: number;
  /** The temp dir holding the data directory, the unix socket and server.log. */
  dir: string;
  /** Stops the server (immediate shutdown) and removes its temp dir; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL server (initdb + pg_ctl start -w) on a random loopback port with
 * fsync, synchronous_commit and full_page_writes off. As root it runs as `postgres` (or a system
 * account `idsync-test`, created if need be). Stopped and removed on stop() or process exit.
 */
export function startPostgres(): Promise<PostgresServer>;

/** The directory of initdb/pg_ctl: $PG_BINDIR, the newest /usr/lib/postgresql/N/bin, or "" (PATH). */
export function postgresBinDir(): string;
