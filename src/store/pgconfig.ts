// PostgreSQL connection settings, and what a broken connection means to a user, in one place: the
// engine's pool (db.ts) and any code that opens its own pg.Client (advisory-lock sessions) get the
// same timeouts, keepalive and application_name, and the same one-line explanation of a failure.
//
// Why each setting:
// - connect timeout: a host that drops packets, or a server too frozen to finish the handshake,
//   would otherwise keep a connection attempt open for the kernel's TCP timeout (minutes).
// - statement_timeout (server side): a statement that runs away is cancelled by the server, which
//   also releases its locks. Generous by default: one batch statement at a million objects, or an
//   index build on a big connector space, takes tens of seconds.
// - query timeout (client side), a few seconds above statement_timeout: a server that is stalled
//   (a frozen VM, a SIGSTOPped backend, a network partition) never sends the statement_timeout
//   error either; only a timer in this process notices that nothing comes back.
// - idle_in_transaction_session_timeout: a client that stalls inside a transaction (the CLI
//   suspended with Ctrl-Z) must not hold its locks forever.
// - TCP keepalive: an idle pooled connection whose server vanished is found out by the kernel
//   instead of on the next query.
// - application_name idsync/<pid>: an administrator (and the tests) can tell idsync's sessions
//   apart in pg_stat_activity, and which process each belongs to.
import type pg from "pg";

export interface PostgresTimeouts {
  /** Opening a connection: TCP, TLS, startup and authentication. Default 10 s; 0: no limit. */
  connectTimeoutMs?: number;
  /**
   * One SQL statement, enforced by the server (statement_timeout). Default 5 min; 0: no limit. The
   * client gives up QUERY_TIMEOUT_MARGIN_MS later (the server never answers when it is stalled).
   */
  statementTimeoutMs?: number;
}

export interface PostgresConnectionOptions extends PostgresTimeouts {
  /** Default idsync/<pid>; an application_name in the URL wins. */
  applicationName?: string;
  /** A schema of its own (one namespace's engine): the connection's search_path. [a-z0-9_] only. */
  schema?: string;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5 * 60_000;
/** How much longer than statement_timeout the client waits for an answer before it gives up. */
export const QUERY_TIMEOUT_MARGIN_MS = 5_000;
/** Short statement timeouts (tests, impatient users) must not end transactions between statements. */
const MIN_IDLE_IN_TRANSACTION_MS = 60_000;
const KEEPALIVE_INITIAL_DELAY_MS = 30_000;

/** The timeouts with their defaults filled in. */
export function resolveTimeouts(t: PostgresTimeouts = {}): Required<PostgresTimeouts> {
  return {
    connectTimeoutMs: t.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: t.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
  };
}

/** The client-side limit for one query: statement_timeout plus a margin (0: none). */
export function queryTimeoutMs(statementTimeoutMs: number): number {
  return statementTimeoutMs > 0 ? statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS : 0;
}

/**
 * The pg settings of every idsync connection to `url`: `new pg.Pool({...postgresConnectionConfig(url), max})`
 * or `new pg.Client(postgresConnectionConfig(url, {statementTimeoutMs: 0}))` for a session that
 * waits on purpose (an advisory lock). Settings given as URL parameters win over these.
 */
export function postgresConnectionConfig(url: string, opts: PostgresConnectionOptions = {}): pg.ClientConfig {
  const t = resolveTimeouts(opts);
  const config: pg.ClientConfig = {
    connectionString: url,
    application_name: (opts.applicationName ?? `idsync/${process.pid}`).slice(0, 63),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
  };
  if (t.connectTimeoutMs > 0) config.connectionTimeoutMillis = t.connectTimeoutMs;
  // Every connection of the pool starts in the schema: no query can reach another schema's tables
  // by accident (pg_catalog, searched implicitly, still provides the built-in functions).
  if (opts.schema !== undefined) config.options = `-c search_path=${opts.schema}`;
  if (t.statementTimeoutMs > 0) {
    config.statement_timeout = t.statementTimeoutMs;
    config.query_timeout = queryTimeoutMs(t.statementTimeoutMs);
    config.idle_in_transaction_session_timeout = Math.max(t.statementTimeoutMs, MIN_IDLE_IN_TRANSACTION_MS);
  }
  return config;
}

/** 300000 → "5m", 7000 → "7s", 5400000 → "1h30m" (the notation of --statement-timeout). */
export function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  if (s === 0) return "0s";
  let text = "";
  for (const [unit, size] of [["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (s >= size) {
      text += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return text;
}

export type DatabaseProblem =
  /** Nothing accepts connections there (refused, host not found, unreachable). */
  | "unreachable"
  /** The server refuses new sessions for now (starting up, shutting down, too many clients). */
  | "not-accepting"
  /** The server ended the session or the connection broke. */
  | "connection-lost"
  /** No answer to the connection attempt in time. */
  | "connect-timeout"
  /** No answer to a query in time: the server or the network is stalled. */
  | "query-timeout"
  /** The server cancelled a statement that ran longer than statement_timeout. */
  | "statement-timeout"
  /** The server cancelled a statement for another reason (an administrator's pg_cancel_backend). */
  | "cancelled";

/**
 * The database could not be used: unreachable, gone mid-run, stalled or too slow. Its message is one
 * line naming the database (without its password); `hint` says what to do; `cause` is the driver's
 * error, `code` its SQLSTATE or errno code.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";
  readonly code?: string;
  constructor(
    readonly problem: DatabaseProblem,
    message: string,
    cause: unknown,
  ) {
    super(message, { cause });
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (typeof code === "string") this.code = code;
  }

  /** Whether the connection that saw this is unusable (closed, or a query is still stuck on it). */
  get connectionBroken(): boolean {
    return this.problem !== "statement-timeout" && this.problem !== "cancelled";
  }

  /** What the user can do about it. Committed batches stay committed, so a re-run resumes. */
  get hint(): string {
    return this.problem === "statement-timeout"
      ? "nothing was lost — run the command again, with a larger --statement-timeout if the statement is just slow"
      : "nothing was lost — run the command again when it is back";
  }
}

const ERRNO_REASONS: Record<string, [DatabaseProblem, string]> = {
  ECONNREFUSED: ["unreachable", "connection refused"],
  ENOTFOUND: ["unreachable", "host not found"],
  EAI_AGAIN: ["unreachable", "host name lookup failed"],
  EHOSTUNREACH: ["unreachable", "host unreachable"],
  ENETUNREACH: ["unreachable", "network unreachable"],
  ETIMEDOUT: ["unreachable", "connection timed out"],
  ECONNRESET: ["connection-lost", "connection reset"],
  EPIPE: ["connection-lost", "connection reset"],
};

const CONNECT_TIMEOUT_MESSAGES = ["timeout expired", "Connection terminated due to connection timeout", "timeout exceeded when trying to connect"];
const CONNECTION_LOST_MESSAGES = ["Connection terminated unexpectedly", "Connection terminated", "Client has encountered a connection error and is not queryable"];

/**
 * The one-line explanation of a driver error that means the database is unusable (see
 * DatabaseProblem), or undefined for any other error (a constraint violation, a bad password, a
 * missing database: their own messages say it). `description` names the database (redactUrl).
 */
export function describePostgresError(err: unknown, description: string, timeouts: PostgresTimeouts = {}): DatabaseUnavailableError | undefined {
  if (err instanceof DatabaseUnavailableError) return err;
  if (!(err instanceof Error)) return undefined;
  const t = resolveTimeouts(timeouts);
  const at = `the database at ${description}`;
  const code = (err as { code?: unknown }).code;
  const serverMessage = err.message.split("\n")[0];
  const make = (problem: DatabaseProblem, message: string) => new DatabaseUnavailableError(problem, message, err);

  if (CONNECT_TIMEOUT_MESSAGES.includes(err.message)) return make("connect-timeout", `${at} did not answer within ${formatDuration(t.connectTimeoutMs)} (connect timeout)`);
  if (err.message === "Query read timeout") {
    return make("query-timeout", `${at} did not answer within ${formatDuration(queryTimeoutMs(t.statementTimeoutMs))} (query timeout: the server or the network is stalled)`);
  }
  if (typeof code === "string") {
    const errno = ERRNO_REASONS[code];
    if (errno) return make(errno[0], `${at} ${errno[0] === "unreachable" ? "is unreachable" : "closed the connection"} (${errno[1]})`);
    if (code === "57014") {
      return /statement timeout/.test(serverMessage)
        ? make("statement-timeout", `${at} did not finish a statement within ${formatDuration(t.statementTimeoutMs)} (statement timeout)`)
        : make("cancelled", `${at} cancelled a statement (${serverMessage})`);
    }
    // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P05 idle_session_timeout, 25P03 idle_in_transaction_session_timeout.
    if (code === "57P01" || code === "57P02" || code === "57P05" || code === "25P03") return make("connection-lost", `${at} closed the connection (${serverMessage})`);
    // 57P03 cannot_connect_now (starting up, shutting down, in recovery), 53300 too_many_connections.
    if (code === "57P03" || code === "53300") return make("not-accepting", `${at} is not accepting connections (${serverMessage})`);
    // Class 08: connection exceptions.
    if (code.startsWith("08")) return make("connection-lost", `${at} broke the connection (${serverMessage})`);
  }
  if (CONNECTION_LOST_MESSAGES.includes(err.message)) return make("connection-lost", `${at} closed the connection (${err.message.toLowerCase()})`);
  // pg-pool wraps what it saw under a connection timeout; the cause may say more.
  if (err.cause instanceof Error && err.cause !== err) return describePostgresError(err.cause, description, timeouts);
  return undefined;
}

/** The DatabaseUnavailableError in an error or its chain of causes, if any. */
export function findDatabaseUnavailable(err: unknown): DatabaseUnavailableError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return e;
  }
  return undefined;
}
