// Personal-data commands: `subject export`, `subject erase`, `subject unsuppress`, `retention`,
// `audit`; and the personal-data options of `search` and `show` (their commands are in inspect.ts).
//
// Exit codes: 0 done; 1 error, an unknown or ambiguous SUBJECT (nothing done), or an erasure not
// confirmed; 2 an erasure finished but some account could not be deprovisioned yet (it is retried
// by the next export run, see the output).
import { createInterface } from "node:readline/promises";
import { Option, type Command } from "commander";
import { eraseSubject, type EraseReport } from "../../engine/erase.ts";
import { enforceRetention } from "../../engine/retention.ts";
import { currentActor, listAudit, recordAudit } from "../../privacy/audit.ts";
import { collectSubject, subjectHashOf } from "../../privacy/collect.ts";
import { subjectCsv } from "../../privacy/csv.ts";
import { anchorHash, privacySalt, unsuppress } from "../../privacy/hash.ts";
import { connectorSpaceNames } from "../../privacy/subject.ts";
import { openEngineFor, pathPolicy, secretResolver, UsageError, type GlobalOptions } from "../context.ts";
import { table, type Output } from "../output.ts";
import { resolveSubject, searchCommand, showCommand, type SearchOptions } from "./inspect.ts";

/** main.ts's wrapper: runs a command with the global options and records its exit code. */
export type CommandAction = <A extends unknown[]>(fn: (g: GlobalOptions, out: Output, ...args: A) => Promise<number>) => (...args: A) => Promise<void>;

const SUBJECT_HELP = `
SUBJECT: a metaverse id (17 or mv:17), an anchor in one MA (hr/E004), an anchor in any MA (E004),
or attribute=value (mail=ann@example.org, case-insensitive). A name that designates several
subjects lists them and does nothing (exit 1).`;

export function registerPrivacyCommands(program: Command, action: CommandAction): void {
  extendSearchAndShow(program, action);

  const subject = program.command("subject").description("one data subject: export everything held about them, or erase them").addHelpText("after", SUBJECT_HELP);
  subject
    .command("export")
    .description("everything held about one subject, in one document (a data subject access request)")
    .argument("<subject>", "SUBJECT")
    .addOption(new Option("--format <format>", "json or csv (default: json)").choices(["json", "csv"]))
    .option("--actor <name>", "who asks, for the audit trail (default: $USER)")
    .addHelpText("after", SUBJECT_HELP)
    .action(action((g, o, name: string, opts: { format?: "json" | "csv"; actor?: string }) => exportCommand(g, o, name, opts)));
  subject
    .command("erase")
    .description("remove a subject from the metaverse, connector spaces, pending exports and history; deprovision their accounts")
    .argument("<subject>", "SUBJECT")
    .option("--keep-targets", "only disconnect their accounts in target systems (no delete or disable is sent)")
    .option("--dry-run", "show what would be done; change nothing")
    .option("-y, --yes", "do not ask for confirmation (required when standard input is not a terminal)")
    .option("--actor <name>", "who erases, for the audit trail (default: $USER)")
    .addHelpText("after", SUBJECT_HELP + "\nExit codes: 0 erased, 1 nothing done, 2 erased but an account's deprovisioning is still pending.")
    .action(action((g, o, name: string, opts: EraseCommandOptions) => eraseCommand(g, o, name, opts)));
  subject
    .command("unsuppress")
    .description("let an erased anchor be imported again (e.g. the person came back): MA/ANCHOR, or ANCHOR for every MA")
    .argument("<anchor>", "MA/ANCHOR or ANCHOR")
    .option("--actor <name>", "who, for the audit trail (default: $USER)")
    .action(action((g, o, anchor: string, opts: { actor?: string }) => unsuppressCommand(g, o, anchor, opts)));

  program
    .command("retention")
    .description("enforce the RetentionPolicies: purge deleted metaverse objects and disconnectors past the grace period, and old run history")
    .option("--dry-run", "count what would be purged; change nothing")
    .option("--actor <name>", "who, for the audit trail (default: $USER)")
    .action(action((g, o, opts: { dryRun?: boolean; actor?: string }) => retentionCommand(g, o, opts)));
  program
    .command("audit")
    .description("the audit trail of erasures, exports and retention purges (no personal data in it)")
    .option("--subject <ma/anchor>", "only events about the subject with this primary anchor, e.g. hr/E004 (compared by its salted hash)")
    .option("--limit <n>", "how many events", "50")
    .action(action((g, o, opts: { subject?: string; limit?: string }) => auditCommand(g, o, opts)));
}

/** Adds the personal-data arguments and options to the `search` and `show` commands main.ts declares. */
function extendSearchAndShow(program: Command, action: CommandAction): void {
  const search = program.commands.find((c) => c.name() === "search");
  search
    ?.description("find a value across the metaverse and every connector space (exact, prefix, case-insensitive), or list objects by type, MA and CEL filter")
    .argument("[value]", "the value to find (a trailing * searches by prefix)")
    .option("--attribute <name>", "only this attribute")
    .option("--prefix", "values starting with VALUE")
    .option("--case-sensitive", "match case exactly")
    .addOption(new Option("--in <scope>", "where to search (default: all with a VALUE, else the metaverse)").choices(["all", "metaverse", "connectors"]))
    .option("--after <cursor>", "the next page: the cursor the previous page printed")
    .option("--redact", "hide values of personal attributes")
    .addHelpText("after", "\n--filter is CEL over `mv` (the metaverse) or `object` (connector spaces); it also picks where to search.")
    .action(action((g, o, value: string | undefined, opts: SearchOptions) => searchCommand(g, o, { ...opts, value })));
  const show = program.commands.find((c) => c.name() === "show");
  show
    ?.description("a subject: the metaverse object, its connectors, each attribute's lineage, source of authority and where it was exported")
    .option("--redact", "hide values of personal attributes")
    .addHelpText("after", SUBJECT_HELP)
    .action(action((g, o, name: string, opts: { redact?: boolean }) => showCommand(g, o, name, opts)));
}

async function exportCommand(g: GlobalOptions, out: Output, name: string, opts: { format?: "json" | "csv"; actor?: string }): Promise<number> {
  const engine = await openEngineFor(g);
  try {
    const db = engine.database;
    const record = await collectSubject(db, engine.config(), await resolveSubject(db, name));
    if (opts.format === "csv" || out.format === "csv") process.stdout.write(subjectCsv(record));
    else out.json(record);
    await recordAudit(db, {
      at: new Date(),
      actor: currentActor(opts.actor),
      action: "subject-export",
      subjectHash: subjectHashOf(await privacySalt(db), record),
      details: {
        metaverseObjects: record.metaverseObject ? 1 : 0,
        connectorSpaceObjects: record.connectors.length + record.formerConnectors.length,
        pendingExports: record.pendingExports.length,
        runErrors: record.runErrors.length,
      },
    });
    return 0;
  } finally {
    await engine.close();
  }
}

interface EraseCommandOptions {
  keepTargets?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  actor?: string;
}

const ACTION_TEXT: Record<string, string> = {
  remove: "removed from idsync (the system keeps its record)",
  delete: "deleted in the target system, then removed",
  disable: "disabled in the target system (the rule's deprovision flows), then removed",
  disconnect: "disconnected: the account stays in the target system, idsync's copy is removed",
};

async function eraseCommand(g: GlobalOptions, out: Output, name: string, opts: EraseCommandOptions): Promise<number> {
  const engine = await openEngineFor(g);
  try {
    const subject = await resolveSubject(engine.database, name);
    const base = { keepTargets: opts.keepTargets, actor: currentActor(opts.actor), secrets: secretResolver(g), paths: pathPolicy(g) };
    const plan = await eraseSubject(engine, subject, { ...base, dryRun: true });
    if (opts.dryRun) {
      if (out.format === "json") out.json(plan);
      else printErasure(out, plan);
      return 0;
    }
    if (!opts.yes) {
      if (!process.stdin.isTTY) throw new UsageError("refusing to erase without --yes: standard input is not a terminal to confirm on");
      printErasure(out, plan, process.stderr);
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      const answer = await rl.question(`This cannot be undone. Type "erase" to erase ${name}: `);
      rl.close();
      if (answer.trim() !== "erase") {
        process.stderr.write("Nothing was erased.\n");
        return 1;
      }
    }
    const report = await eraseSubject(engine, subject, base);
    if (out.format === "json") out.json(report);
    else printErasure(out, report);
    return report.entries.some((e) => e.outcome === "held" || e.outcome === "failed") ? 2 : 0;
  } finally {
    await engine.close();
  }
}

function printErasure(out: Output, r: EraseReport, stream?: NodeJS.WritableStream): void {
  const line = (s = "") => (stream ? stream.write(s + "\n") : out.line(s));
  const c = r.counts;
  line(r.dryRun ? "Would erase:" : "Erased:");
  line(`  metaverse object: ${r.mvId === null ? "none (a connector-space object only)" : `mv:${r.mvId}`}`);
  for (const e of r.entries) {
    const outcome = e.outcome === "held" || e.outcome === "failed" ? ` — NOT YET: ${e.detail}; the next export of ${e.ma} retries it` : "";
    line(`  ${e.ma}/${e.anchor ?? `cs:${e.csId}`}: ${ACTION_TEXT[e.action]}${outcome}`);
  }
  line(`  ${c.pendingExports} pending export(s), ${c.runErrors} run error(s), ${c.runMessages} run message(s) mentioning them`);
  if (c.referencingObjects > 0) line(`  ${c.referencingObjects} other object(s) reference them (e.g. as manager): the reference is removed and their targets updated`);
  if (!r.dryRun) line(`  ${c.suppressed} anchor(s) suppressed; audit record written (subject ${r.subjectHash.slice(0, 12)}…)`);
  for (const s of r.sources) {
    line();
    line(`${s.ma} is a source of authority and still holds this person (${s.ma}/${s.anchor}).`);
    line(`  ${r.dryRun ? "After the erasure, the" : "The"} next import of ${s.ma} skips this anchor: it is on the suppression list (a salted hash).`);
    line(`  To erase it at the source, delete the record in ${s.ma}, or take it out of idsync's view there:`);
    if (s.filter) line(`    the MA's filter (true = ignored): ${s.filter}`);
    for (const sc of s.scopes) line(`    rule ${sc.rule}'s scope (false = ignored): ${sc.scope}`);
    line(`  If the person comes back: idsync subject unsuppress ${s.ma}/${s.anchor}`);
  }
}

async function unsuppressCommand(g: GlobalOptions, out: Output, name: string, opts: { actor?: string }): Promise<number> {
  const engine = await openEngineFor(g);
  try {
    const db = engine.database;
    const mas = await connectorSpaceNames(db);
    const slash = name.indexOf("/");
    const targets = slash > 0 && mas.includes(name.slice(0, slash)) ? [[name.slice(0, slash), name.slice(slash + 1)]] : mas.map((m) => [m, name]);
    const lifted: Array<[string, string]> = [];
    for (const [ma, anchor] of targets) if (await unsuppress(db, ma, anchor)) lifted.push([ma, anchor]);
    if (lifted.length > 0) {
      // Named in the audit like the erasure named them: by the anchor in a source MA, if one was lifted.
      const sources = new Set(engine.config()?.syncRules.filter((r) => r.spec.direction === "inbound").map((r) => r.spec.managementAgent));
      const [ma, anchor] = lifted.find(([m]) => sources.has(m)) ?? lifted[0];
      await recordAudit(db, { at: new Date(), actor: currentActor(opts.actor), action: "subject-unsuppress", subjectHash: anchorHash(await privacySalt(db), ma, anchor), details: { anchors: lifted.length } });
    }
    const names = lifted.map(([ma, anchor]) => `${ma}/${anchor}`);
    if (out.format === "json") out.json({ unsuppressed: names });
    else out.line(names.length ? `No longer suppressed: ${names.join(", ")}; the next import brings them in.` : `'${name}' is not on the suppression list.`);
    return lifted.length > 0 ? 0 : 1;
  } finally {
    await engine.close();
  }
}

async function retentionCommand(g: GlobalOptions, out: Output, opts: { dryRun?: boolean; actor?: string }): Promise<number> {
  const engine = await openEngineFor(g);
  try {
    const retention = () => enforceRetention(engine.database, engine.config(), { now: new Date(), dryRun: opts.dryRun, actor: currentActor(opts.actor) });
    // Purging runs beside no sync: a run must not link to an object being purged.
    const r = opts.dryRun ? await retention() : await engine.exclusive("retention", retention);
    if (out.format === "json") {
      out.json(r);
      return 0;
    }
    const p = r.purged;
    out.line(`${r.dryRun ? "Would purge" : "Purged"}: ${p.metaverseObjects} deleted metaverse object(s), ${p.connectorSpaceObjects} disconnected connector-space object(s), ${p.runs} run(s) and ${p.runErrors} run error(s).`);
    for (const [type, cutoff] of Object.entries(r.graceCutoffs)) out.line(`  ${type}: deleted before ${cutoff}`);
    out.line(`  disconnectors: disconnected before ${r.connectorSpaceCutoff}; run history: started before ${r.runHistoryCutoff}`);
    if (p.referencingObjects > 0) out.line(`  ${p.referencingObjects} object(s) referenced a purged one: the reference was removed`);
    return 0;
  } finally {
    await engine.close();
  }
}

async function auditCommand(g: GlobalOptions, out: Output, opts: { subject?: string; limit?: string }): Promise<number> {
  const engine = await openEngineFor(g);
  try {
    const db = engine.database;
    const limit = Number(opts.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got '${opts.limit}'`);
    let subjectHash: string | undefined;
    if (opts.subject) {
      const slash = opts.subject.indexOf("/");
      if (slash <= 0) throw new UsageError("--subject takes MA/ANCHOR");
      subjectHash = anchorHash(await privacySalt(db), opts.subject.slice(0, slash), opts.subject.slice(slash + 1));
    }
    const events = await listAudit(db, { limit, subjectHash });
    if (out.format === "json") out.json({ events });
    else {
      out.line(
        table(
          ["id", "at", "actor", "action", "subject", "details (counts; zeros left out)"],
          events.map((e) => [
            e.id,
            e.at,
            e.actor,
            e.action,
            e.subjectHash ? e.subjectHash.slice(0, 12) : "",
            Object.entries(e.details)
              .filter(([, v]) => v !== 0)
              .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
              .join(" "),
          ]),
        ),
      );
    }
    return 0;
  } finally {
    await engine.close();
  }
}
