// Opening what a command needs from the global options: the database, the engine, the config.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../config/index.ts";
import type { ConfigSet } from "../config/model.ts";
import { envSecretResolver, openEngine, type Engine, type SecretResolver } from "../engine/index.ts";
import { openDatabase, type Database } from "../store/index.ts";
import type { OutputFormat } from "./output.ts";

export interface GlobalOptions {
  database?: string;
  dataDir: string;
  output: OutputFormat;
  secretsDir?: string;
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
  return openDatabase(url ? { url } : { dataDir: opts.dataDir });
}

export async function openEngineFor(opts: GlobalOptions): Promise<Engine> {
  return openEngine({ database: await openDb(opts), secrets: secretResolver(opts) });
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
