// `idsync validate`, `idsync plan`, `idsync drift`: the commands for pull requests and CI.
//
// Exit codes (a contract for pipelines):
//   validate: 0 valid, 1 errors.
//   plan, drift: 0 no changes (no drift), 1 error, 2 changes (drift); --exit-zero turns 2 into 0
//   for pipelines that only want the report.
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { loadConfigDirectory } from "../../config/index.ts";
import {
  drift,
  exitCodeFor,
  plan,
  renderDriftMarkdown,
  renderDriftText,
  renderJson,
  renderPlanMarkdown,
  renderPlanText,
  renderValidation,
  type DriftReport,
  type PlanReport,
  type ValidateFormat,
} from "../../gitops/index.ts";
import { loadValidConfig, openDb, pathPolicy, UsageError, type GlobalOptions } from "../context.ts";
import type { Output } from "../output.ts";

/** main.ts's wrapper: runs a command with the global options and records its exit code. */
export type CommandAction = <A extends unknown[]>(fn: (g: GlobalOptions, out: Output, ...args: A) => Promise<number>) => (...args: A) => Promise<void>;

/** Every output format `-o` accepts, and which commands support which (others: text and json). */
export const OUTPUT_FORMATS = ["text", "json", "markdown", "github", "junit", "csv"] as const;
const SUPPORTED: Record<string, readonly string[]> = {
  validate: ["text", "json", "github", "junit"],
  plan: ["text", "json", "markdown"],
  drift: ["text", "json", "markdown"],
  // `idsync subject export SUBJECT -o csv`
  export: ["text", "json", "csv"],
};
const DEFAULT_SUPPORTED = ["text", "json"];

const EXIT_CODES_HELP = `
Exit codes: 0 no changes, 1 error, 2 changes (use --exit-zero to get 0 for changes too).`;

/**
 * Registers validate, plan and drift, and a check that refuses an output format a command does not
 * support (instead of silently printing text).
 */
export function registerGitopsCommands(program: Command, action: CommandAction): void {
  program.hook("preAction", (_root, command) => {
    const format = String(program.opts().output ?? "text");
    const supported = SUPPORTED[command.name()] ?? DEFAULT_SUPPORTED;
    if (!supported.includes(format)) {
      throw new UsageError(`idsync ${command.name()} does not support -o ${format} (it supports: ${supported.join(", ")})`);
    }
  });

  program
    .command("validate")
    .description("check the CRs in a directory: schema, references, CEL; no database needed (-o text|json|github|junit)")
    .requiredOption("-f, --file <dir>", "directory of YAML files")
    .addHelpText("after", "\nExit codes: 0 valid, 1 errors.")
    .action(action((g, _o, opts: { file: string }) => validateCommand(g, opts.file)));

  program
    .command("plan")
    .description("what merging these CRs would change: configuration diff, then the data impact of a rolled-back simulated sync (-o text|markdown|json)")
    .requiredOption("-f, --file <dir>", "directory of YAML files (the proposed configuration)")
    .option("--redact", "hide values of personal attributes in the samples")
    .option("--samples <n>", "sample objects per management agent and kind of change", "5")
    .option("--exit-zero", "exit 0 when there are changes (errors still exit 1)")
    .addHelpText("after", EXIT_CODES_HELP)
    .action(action((g, o, opts: PlanCommandOptions) => planCommand(g, o, opts)));

  program
    .command("drift")
    .description("declared vs applied: CRs in git vs the engine (--database) or the cluster (--cluster), and data drift per MA (-o text|markdown|json)")
    .requiredOption("-f, --file <dir>", "directory of YAML files (the declared configuration)")
    .option("--cluster [kubeconfig]", "compare with the CRs in the cluster (kubeconfig file; default: $KUBECONFIG, in-cluster, ~/.kube/config)")
    .option("-n, --namespace <ns>", "with --cluster: namespace of CRs that name none (default: the kubeconfig context's)")
    .option("--redact", "hide values of personal attributes in the samples")
    .option("--samples <n>", "sample objects per management agent", "5")
    .option("--exit-zero", "exit 0 when there is drift (errors still exit 1)")
    .addHelpText(
      "after",
      `${EXIT_CODES_HELP}\nWithout --cluster the engine's database is compared (--database, IDSYNC_DATABASE_URL or --data-dir);\nwith --cluster it is compared too when one of those is given explicitly.`,
    )
    .action(
      action((g, o, opts: DriftCommandOptions) =>
        driftCommand(g, o, opts, Boolean(g.database || process.env.IDSYNC_DATABASE_URL || program.getOptionValueSource("dataDir") === "cli")),
      ),
    );
}

export async function validateCommand(g: GlobalOptions, dir: string): Promise<number> {
  if (!existsSync(dir)) throw new UsageError(`configuration directory not found: ${dir}`);
  const loaded = await loadConfigDirectory(dir, { paths: pathPolicy(g) });
  process.stdout.write(renderValidation({ directory: dir, resources: loaded.resources, errors: loaded.errors }, String(g.output) as ValidateFormat));
  return loaded.errors.length === 0 ? 0 : 1;
}

interface ReportCommandOptions {
  file: string;
  redact?: boolean;
  samples: string;
  exitZero?: boolean;
}
type PlanCommandOptions = ReportCommandOptions;
interface DriftCommandOptions extends ReportCommandOptions {
  cluster?: string | boolean;
  namespace?: string;
}

function samplesOption(s: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 0) throw new UsageError(`--samples must be a whole number ≥ 0, got '${s}'`);
  return v;
}

export async function planCommand(g: GlobalOptions, out: Output, opts: PlanCommandOptions): Promise<number> {
  const samples = samplesOption(opts.samples);
  const proposed = await loadValidConfig(opts.file, g);
  const db = await openDb(g);
  let report: PlanReport;
  try {
    report = await plan({ database: db, proposed, configuration: opts.file, redact: opts.redact, samples, onProgress: out.progress });
  } finally {
    out.endProgress();
    await db.close();
  }
  const format = String(g.output);
  process.stdout.write(format === "json" ? renderJson(report) : format === "markdown" ? renderPlanMarkdown(report) : renderPlanText(report));
  return exitCodeFor(report, opts.exitZero);
}

export async function driftCommand(g: GlobalOptions, _out: Output, opts: DriftCommandOptions, databaseGiven: boolean): Promise<number> {
  const samples = samplesOption(opts.samples);
  const declared = await loadValidConfig(opts.file, g);
  const cluster = opts.cluster === undefined || opts.cluster === false ? undefined : { kubeconfig: typeof opts.cluster === "string" ? opts.cluster : undefined, namespace: opts.namespace };
  if (!cluster && opts.namespace) throw new UsageError("--namespace applies to --cluster only");
  const db = !cluster || databaseGiven ? await openDb(g) : undefined;
  let report: DriftReport;
  try {
    report = await drift({ declared, configuration: opts.file, database: db, cluster, redact: opts.redact, samples });
  } finally {
    await db?.close();
  }
  const format = String(g.output);
  process.stdout.write(format === "json" ? renderJson(report) : format === "markdown" ? renderDriftMarkdown(report) : renderDriftText(report));
  return exitCodeFor(report, opts.exitZero);
}
