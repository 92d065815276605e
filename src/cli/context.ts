// Opening what a command needs from the global options: the database, the engine, the config.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../config/index.ts";
import { parseDuration } from "../config/duration.ts";
import type { ConfigSet } from "../config/model.ts";
import { envSecretResolver, openEngine, type Engine, type SecretResolver } from "../engine/index.ts";
import { openDatabase, type Database, type PostgresTimeouts } from "../store/index.ts";
import type { OutputFormat } from "./output.ts";

export interface GlobalOptions {
  database?: string;
  dataDir: string;
  output: OutputFormat;
  secretsDir?: string;
  /** --lock-wait: how long to wait for a run another process holds (default: do not wait). */
  lockWait?: string;
  /** --connect-timeout, --statement-timeout: durations such as 10s or 5m (server mode only). */
  connectTimeout?: string;
  statementTimeout?: string;
}

/** A failure the user can act on: printed as is, exit code 1. */
export class UsageError extends Error {}

export function secretResolver(opts: GlobalOptions): SecretResolver {
  const env = envSecretResolver();
  return async (name, key) => {
    if (opts.secretsDir) {
      const file = join(opts.secretsDir, name, key);
      if (existsSync(file)) return readFileSync(file, "utf8").replace(/\r?\n$/, "");
    }
    return env(name, key);
  };
}

export async function openDb(opts: GlobalOptions): Promise<Database> {
  const url = opts.database ?? process.env.IDSYNC_DATABASE_URL;
  return openDatabase(url ? { url, timeouts: databaseTimeouts(opts) } : { dataDir: opts.dataDir, lockWaitMs: lockWaitMs(opts) });
}

/**
 * --connect-timeout and --statement-timeout (or IDSYNC_CONNECT_TIMEOUT, IDSYNC_STATEMENT_TIMEOUT);
 * what is not given keeps its default (pgconfig.ts). "0s" means no limit.
 */
export function databaseTimeouts(opts: Pick<GlobalOptions, "connectTimeout" | "statementTimeout">): PostgresTimeouts {
  const duration = (option: string, text: string | undefined): number | undefined => {
    if (text === undefined || text === "") return undefined;
    if (text === "0") return 0;
    try {
      return parseDuration(text);
    } catch (e) {
      throw new UsageError(`${option}: ${(e as Error).message}`);
    }
  };
  return {
    connectTimeoutMs: duration("--connect-timeout", opts.connectTimeout ?? process.env.IDSYNC_CONNECT_TIMEOUT),
    statementTimeoutMs: duration("--statement-timeout", opts.statementTimeout ?? process.env.IDSYNC_STATEMENT_TIMEOUT),
  };
}

export async function openEngineFor(opts: GlobalOptions): Promise<Engine> {
  return openEngine({ database: await openDb(opts), secrets: secretResolver(opts), lockWaitMs: lockWaitMs(opts) });
}

/** --lock-wait (or IDSYNC_LOCK_WAIT) in milliseconds; 0 when not given. */
export function lockWaitMs(opts: GlobalOptions): number {
  const text = opts.lockWait ?? process.env.IDSYNC_LOCK_WAIT;
  if (!text || text === "0") return 0;
  try {
    return parseDuration(text);
  } catch (e) {
    throw new UsageError(`--lock-wait: ${(e as Error).message}`);
  }
}

/** Loads and validates a directory of CRs; throws a UsageError listing every problem. */
export async function loadValidConfig(dir: string): Promise<ConfigSet> {
  if (!existsSync(dir)) throw new UsageError(`configuration directory not found: ${dir}`);
  const loaded = await loadConfigDirectory(dir);
  if (loaded.errors.length > 0 || !loaded.config) {
    throw new UsageError(
      `${loaded.errors.length} configuration error(s):\n` + loaded.errors.map((e) => "  " + formatConfigError(e)).join("\n"),
    );
  }
  return loaded.config;
}
