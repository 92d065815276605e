// `idsync run MA PROFILE` and `idsync cycle`: the engine's work, summarized per MA.
import { objectErrorKey, type CycleResult, type RunResult } from "../../engine/index.ts";
import type { RunProfile } from "../../config/model.ts";
import { loadValidConfig, openEngineFor, UsageError, type GlobalOptions } from "../context.ts";
import { table, type Output } from "../output.ts";

const PROFILES: RunProfile[] = ["full-import", "delta-import", "full-sync", "delta-sync", "export"];

export interface RunCommandOptions {
  file?: string;
  allowDeletes?: boolean;
  full?: boolean;
}

/** 0 ok, 2 a run finished with object errors or a blocked threshold (or failed: 1). */
export function exitCodeFor(statuses: string[]): number {
  if (statuses.includes("failed")) return 1;
  if (statuses.some((s) => s === "completed-with-errors" || s === "stopped-deletion-threshold" || s === "stopped-source-empty")) return 2;
  return 0;
}

export async function runCommand(g: GlobalOptions, out: Output, ma: string, profile: string, opts: RunCommandOptions): Promise<number> {
  if (!PROFILES.includes(profile as RunProfile)) throw new UsageError(`unknown run profile '${profile}' (one of: ${PROFILES.join(", ")})`);
  if (opts.allowDeletes && profile.endsWith("-sync")) throw new UsageError("--allow-deletes applies to imports and exports (what the deletion guard holds), not to syncs");
  const engine = await openEngineFor(g);
  try {
    if (opts.file) await engine.apply(await loadValidConfig(opts.file, g));
    const result = await engine.run(ma, profile as RunProfile, { allowDeletes: opts.allowDeletes, onProgress: out.progress });
    out.endProgress();
    if (out.format === "json") out.json(result);
    else printRuns(out, [result]);
    return exitCodeFor([result.status]);
  } finally {
    await engine.close();
  }
}

export async function cycleCommand(g: GlobalOptions, out: Output, opts: RunCommandOptions): Promise<number> {
  const engine = await openEngineFor(g);
  try {
    if (opts.file) {
      const applied = await engine.apply(await loadValidConfig(opts.file, g));
      if (out.format === "text" && applied.changed.length > 0) {
        out.line(`Applied ${applied.changed.length} configuration change(s): ${applied.changed.map((c) => `${c.kind}/${c.name} ${c.change}`).join(", ")}`);
      }
    }
    const result = await engine.cycle({ allowDeletes: opts.allowDeletes, full: opts.full, onProgress: out.progress });
    out.endProgress();
    if (out.format === "json") out.json(result);
    else printCycle(out, result);
    return exitCodeFor(result.runs.map((r) => r.status));
  } finally {
    await engine.close();
  }
}

function summarize(runs: RunResult[], distinctErrors?: Record<string, number>) {
  const byMa = new Map<string, { imported: string; synced: string; exported: string; errors: number; notes: string[] }>();
  const sum = new Map<string, Record<string, number>>();
  for (const r of runs) {
    const key = r.ma;
    const s = sum.get(key) ?? {};
    const kind = r.profile.endsWith("import") ? "i" : r.profile.endsWith("sync") ? "s" : "e";
    for (const [k, v] of Object.entries(r.counts)) s[`${kind}.${k}`] = (s[`${kind}.${k}`] ?? 0) + v;
    s.errors = (s.errors ?? 0) + r.counts.errors;
    sum.set(key, s);
    const entry = byMa.get(key) ?? { imported: "", synced: "", exported: "", errors: 0, notes: [] };
    if (r.message && r.status !== "success") entry.notes.push(`${r.profile}: ${r.message}`);
    byMa.set(key, entry);
  }
  for (const [ma, s] of sum) {
    const e = byMa.get(ma)!;
    const n = (k: string) => s[k] ?? 0;
    e.imported = `+${n("i.adds")} ~${n("i.updates")} -${n("i.deletes")}` + (n("i.confirmed") ? ` (${n("i.confirmed")} exports confirmed)` : "");
    e.synced = [
      n("s.projections") && `${n("s.projections")} projected`,
      n("s.joins") && `${n("s.joins")} joined`,
      n("s.updates") && `${n("s.updates")} updated`,
      n("s.provisions") && `${n("s.provisions")} provisioned`,
      n("s.deprovisions") && `${n("s.deprovisions")} deprovisioned`,
      n("s.disconnects") && `${n("s.disconnects")} disconnected`,
      n("s.filtered") && `${n("s.filtered")} filtered`,
      n("s.deletes") && `${n("s.deletes")} MV deleted`,
    ]
      .filter(Boolean)
      .join(", ") || "-";
    e.exported = `+${n("e.adds")} ~${n("e.updates")} >${n("e.renames")} -${n("e.deletes")}`;
    e.errors = distinctErrors ? (distinctErrors[ma] ?? 0) : (s.errors ?? 0);
  }
  return byMa;
}

function printRuns(out: Output, runs: RunResult[], distinctErrors?: Record<string, number>): void {
  const byMa = summarize(runs, distinctErrors);
  out.line(
    table(
      ["MA", "imported (+add ~upd -del)", "synced", "exported (+add ~upd >ren -del)", "errors"],
      [...byMa].map(([ma, e]) => [ma, e.imported, e.synced, e.exported, e.errors]),
    ),
  );
  for (const [ma, e] of byMa) for (const note of new Set(e.notes)) out.line(`  ! ${ma} ${note}`);
  // The same object failing in every pass of a cycle is listed (and counted) once.
  const seen = new Set<string>();
  const errors = runs.flatMap((r) =>
    r.errors.filter((e) => {
      const key = objectErrorKey(e, r.profile);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
  );
  const total = distinctErrors ? Object.values(distinctErrors).reduce((a, b) => a + b, 0) : errors.length;
  if (errors.length > 0) {
    out.line();
    out.line(`Object errors (${total}${!distinctErrors && errors.length >= 200 ? "+" : ""}; all are in \`idsync history\`):`);
    for (const e of errors.slice(0, 20)) out.line(`  ${e.ma}${e.anchor ? `/${e.anchor}` : ""}: ${e.code}: ${e.message}`);
    if (errors.length > 20) out.line(`  … and ${errors.length - 20} more`);
  }
}

function printCycle(out: Output, result: CycleResult): void {
  out.line(`Cycle finished in ${result.passes} pass(es): ${result.status}`);
  printRuns(out, result.runs, result.objectErrors);
  out.line();
  out.line(verdict(result));
}

/**
 * The closing line, which must never claim more than happened: "in sync" only after a cycle in
 * which every run succeeded and nothing changed; otherwise what failed, what is held, what erred.
 */
export function verdict(result: CycleResult): string {
  const runs = (status: string) => [...new Set(result.runs.filter((r) => r.status === status).map((r) => `${r.ma} ${r.profile}`))];
  const errors = Object.values(result.objectErrors ?? {}).reduce((a, b) => a + b, 0);
  const parts: string[] = [];
  const failed = runs("failed");
  if (failed.length > 0) parts.push(`${failed.length} run(s) failed (${failed.join(", ")}): what they would have done is not done`);
  const held = [...runs("stopped-source-empty"), ...runs("stopped-deletion-threshold")];
  if (held.length > 0) parts.push(`deletes are held (${held.join(", ")}): see the notes above, then release them with --allow-deletes`);
  if (errors > 0) parts.push(`${errors} object(s) have errors (${Object.entries(result.objectErrors).filter(([, n]) => n > 0).map(([ma, n]) => `${ma}: ${n}`).join(", ")})`);
  if (runs("staging").length > 0 && parts.length === 0) parts.push(`staging mode: exports are held (${runs("staging").join(", ")})`);
  if (parts.length > 0) return `Not in sync: ${parts.join("; ")}.`;
  return result.changed ? "Done." : "No changes: everything is in sync.";
}
