// Opening what a command needs from the global options: the database, the engine, the config.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../config/index.ts";
import { parseDuration } from "../config/duration.ts";
import type { ConfigSet } from "../config/model.ts";
import type { PathPolicy } from "../config/paths.ts";
import { envSecretResolver, openEngine, type Engine, type SecretResolver } from "../engine/index.ts";
import { openDatabase, type Database, type PostgresTimeouts } from "../store/index.ts";
import type { OutputFormat } from "./output.ts";

export interface GlobalOptions {
  database?: string;
  dataDir: string;
  output: OutputFormat;
  secretsDir?: string;
  /**
   * --allow-paths (repeatable; or IDSYNC_ALLOW_PATHS, separated like PATH): folders outside the
   * configuration folder that CSV files may lie in.
   */
  allowPaths?: string[];
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
    // A name or key is one component of DIR/<name>/<key>: checked before the file system is
    // touched, so '../outside' cannot reach a file beside (or above) the secrets folder.
    const bad = badSecretComponent("name", name) ?? badSecretComponent("key", key);
    if (bad) throw new Error(bad);
    if (opts.secretsDir) {
      const file = join(opts.secretsDir, name, key);
      if (existsSync(file)) return readFileSync(file, "utf8").replace(/\r?\n$/, "");
    }
    return env(name, key);
  };
}

/** Why `value` cannot be a Secret's name or key (one path component), or undefined when it can. */
export function badSecretComponent(what: "name" | "key", value: string): string | undefined {
  const shown = JSON.stringify(value);
  if (typeof value !== "string" || value === "") return `secret ${what} ${shown} is empty`;
  if (value === "." || value === "..") return `secret ${what} ${shown} is not a name: '.' and '..' name folders`;
  if (/[/\\\u0000]/.test(value)) return `secret ${what} ${shown} holds a path separator (/ or \\) or NUL: a Secret's ${what} is one name, never a path`;
  return undefined;
}

/** --allow-paths, or IDSYNC_ALLOW_PATHS when the option is not given. */
export function allowPaths(opts: Pick<GlobalOptions, "allowPaths">): string[] {
  if (opts.allowPaths && opts.allowPaths.length > 0) return opts.allowPaths;
  return (process.env.IDSYNC_ALLOW_PATHS ?? "").split(delimiter).filter((p) => p !== "");
}

/** Where the CLI's connectors may read and write files: the configuration folder, and --allow-paths. */
export function pathPolicy(opts: Pick<GlobalOptions, "allowPaths">): PathPolicy {
  return { kind: "local", allow: allowPaths(opts) };
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
  return openEngine({ database: await openDb(opts), secrets: secretResolver(opts), paths: pathPolicy(opts), lockWaitMs: lockWaitMs(opts) });
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

/**
 * Loads and validates a directory of CRs (CSV files inside it, or in a folder of --allow-paths);
 * throws a UsageError listing every problem.
 */
export async function loadValidConfig(dir: string, opts: Pick<GlobalOptions, "allowPaths">): Promise<ConfigSet> {
  if (!existsSync(dir)) throw new UsageError(`configuration directory not found: ${dir}`);
  const loaded = await loadConfigDirectory(dir, { paths: pathPolicy(opts) });
  if (loaded.errors.length > 0 || !loaded.config) {
    throw new UsageError(
      `${loaded.errors.length} configuration error(s):\n` + loaded.errors.map((e) => "  " + formatConfigError(e)).join("\n"),
    );
  }
  return loaded.config;
}
