// The idsync command line: thin commands over config, engine and store.
// Exit codes (a contract): 0 ok, 1 error, 2 a run finished with object errors or a blocked threshold.
import { Command, CommanderError, Option } from "commander";
import { applyCommand } from "./commands/config.ts";
import { OUTPUT_FORMATS, registerGitopsCommands } from "./commands/gitops.ts";
import { historyCommand, searchCommand, showCommand } from "./commands/inspect.ts";
import { registerPrivacyCommands } from "./commands/privacy.ts";
import { cycleCommand, runCommand } from "./commands/run.ts";
import { databaseTimeouts, UsageError, type GlobalOptions } from "./context.ts";
import { LockBusyError } from "../store/lock.ts";
import { createOutput, type Output } from "./output.ts";
import { findDatabaseUnavailable } from "../store/index.ts";

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  let out: Output = createOutput("text");
  const program = new Command("idsync")
    .description("Identity synchronization: connector spaces, a metaverse, sync rules declared as Kubernetes resources")
    .option("--database <url>", "PostgreSQL URL (or IDSYNC_DATABASE_URL); default: the embedded database under --data-dir")
    .option("--data-dir <dir>", "directory of the embedded database", ".idsync")
    .option("--secrets-dir <dir>", "directory of secrets as <name>/<key> files (local mode)")
    .option(
      "--allow-paths <dir>",
      "a folder outside the configuration folder that CSV files may be in (or IDSYNC_ALLOW_PATHS); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--lock-wait <duration>", "wait this long (e.g. 10m) for a run another process holds, instead of stopping at once (or IDSYNC_LOCK_WAIT)")
    .option("--connect-timeout <duration>", "give up connecting to PostgreSQL after this long (or IDSYNC_CONNECT_TIMEOUT; default 10s, 0s: never)")
    .option("--statement-timeout <duration>", "let PostgreSQL cancel a statement running longer (or IDSYNC_STATEMENT_TIMEOUT; default 5m, 0s: never)")
    .addOption(new Option("-o, --output <format>", "output format (markdown: plan, drift; github, junit: validate)").choices([...OUTPUT_FORMATS]).default("text"))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const globals = (): GlobalOptions => {
    const o = program.opts();
    return { database: o.database, dataDir: o.dataDir, output: o.output, secretsDir: o.secretsDir, allowPaths: o.allowPaths, lockWait: o.lockWait, connectTimeout: o.connectTimeout, statementTimeout: o.statementTimeout };
  };
  const action =
    <A extends unknown[]>(fn: (g: GlobalOptions, out: Output, ...args: A) => Promise<number>) =>
    async (...args: A) => {
      const g = globals();
      out = createOutput(g.output);
      code = await fn(g, out, ...args);
    };

  // validate, plan, drift (and the check that a command supports the chosen -o format)
  registerGitopsCommands(program, action);
  program
    .command("apply")
    .description("validate a directory of CRs and make it the engine's configuration")
    .requiredOption("-f, --file <dir>", "directory of YAML files")
    .action(action((g, o, opts: { file: string }) => applyCommand(g, o, opts.file)));
  program
    .command("run")
    .description("run one profile of one management agent: full-import, delta-import, full-sync, delta-sync, export")
    .argument("<ma>", "management agent")
    .argument("<profile>", "run profile")
    .option("-f, --file <dir>", "apply this directory of CRs first")
    .option("--allow-deletes", "release, once, what the deletion guard holds: an import's deletes (threshold or source empty) or an export's")
    .action(action((g, o, ma: string, profile: string, opts) => runCommand(g, o, ma, profile, opts)));
  program
    .command("cycle")
    .description("import, sync and export across all MAs until nothing is pending")
    .option("-f, --file <dir>", "apply this directory of CRs first")
    .option("--full", "full import and full sync instead of deltas")
    .option("--allow-deletes", "release, once, the imports' and exports' deletes held by the deletion guard")
    .action(action((g, o, opts) => cycleCommand(g, o, opts)));
  program
    .command("search")
    .description("find objects in the metaverse (CEL over `mv`) or in a connector space (--ma, CEL over `object`)")
    .option("--ma <ma>", "search this MA's connector space instead of the metaverse")
    .option("--type <type>", "object type")
    .option("--filter <cel>", "CEL condition, e.g. 'mv.department == \"Sales\"'")
    .option("--limit <n>", "at most this many objects", "50")
    .action(action((g, o, opts) => searchCommand(g, o, opts)));
  program
    .command("show")
    .description("show an object with its connectors and lineage: a metaverse id, MA/ANCHOR, or an anchor")
    .argument("<subject>", "metaverse id, ma/anchor or anchor")
    .action(action((g, o, subject: string) => showCommand(g, o, subject)));
  program
    .command("history")
    .description("run history; with a run id, that run's object errors")
    .argument("[run]", "run id")
    .option("--ma <ma>", "only this MA")
    .option("--limit <n>", "how many runs", "20")
    .action(action((g, o, run: string | undefined, opts) => historyCommand(g, o, run, opts)));
  // subject export|erase|unsuppress, retention, audit; adds the personal-data options to search and show
  registerPrivacyCommands(program, action);
  program
    .command("operator")
    .description("run the Kubernetes operator (the container entrypoint)")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
    .option("--insecure-skip-tls-verify", "accept a plain http:// API server, and do not verify a https:// one's certificate (test API servers only)")
    .option("-n, --namespace <ns>", "watch one namespace (default: all)")
    .option("--metrics-port <port>", "port of /metrics, /healthz, /readyz", "8080")
    .option(
      "--csv-root <name=dir>",
      "a folder CSV management agents may use, named in their paths as <name>/<file> (or IDSYNC_CSV_ROOTS=name=dir,...); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      "--allowed-secret <name>",
      'a Secret usable without the label idsync.dev/secret: "true": NAME (in every watched namespace) or NAMESPACE/NAME; repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .action(async (opts) => {
      const g = globals();
      const mod = (await import("../operator/index.ts")) as { runOperator: (o: Record<string, unknown>) => Promise<void> };
      await mod.runOperator({
        kubeconfig: opts.kubeconfig,
        insecureSkipTlsVerify: opts.insecureSkipTlsVerify === true,
        allowedSecrets: opts.allowedSecret,
        namespace: opts.namespace,
        csvRoots: opts.csvRoot,
        metricsPort: Number(opts.metricsPort),
        database: g.database ?? process.env.IDSYNC_DATABASE_URL,
        databaseTimeouts: databaseTimeouts(g),
        dataDir: g.dataDir,
      });
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    out.endProgress();
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    const message =
      e instanceof UsageError
        ? e.message
        : e instanceof LockBusyError
          ? `error: ${e.message}; stopped before starting what it holds (pass --lock-wait 10m to wait for it instead)`
          : databaseTrouble(e) ?? `error: ${(e as Error).message}`;
    if (out.format === "json") out.json({ error: message });
    else process.stderr.write(message + "\n");
    if (!(e instanceof UsageError) && process.env.IDSYNC_DEBUG) process.stderr.write(String((e as Error).stack) + "\n");
    return 1;
  }
}

/**
 * The line for an error that means the database is unusable (unreachable, gone mid-run, stalled,
 * too slow): what happened, naming the database without its password (the store says that), then
 * what to do. Only the store's own DatabaseUnavailableError counts: a connector's "connection
 * refused" looks the same but is not the database's.
 */
function databaseTrouble(e: unknown): string | undefined {
  const found = findDatabaseUnavailable(e);
  // A run that failed and could not record it (the database is what failed) rethrows its own
  // message with the database's error as its cause: the first failure is the news.
  return found && `error: ${(e as Error).message}; ${found.hint}`;
}
