// Plain-text plan and drift reports, for a terminal or a CI log.
import type { ConfigDiff, DriftReport, FieldChange, ObjectSample, PlanReport } from "../model.ts";
import { exitNote, headline, MA_COLUMNS, maSummary, n, objectName, plural, table, value } from "./format.ts";

const SIGN = { added: "+", changed: "~", removed: "-" } as const;

export function renderPlanText(r: PlanReport): string {
  const out: string[] = [];
  out.push(`Plan for ${r.configuration} against ${r.database}${r.redacted ? " (personal values redacted)" : ""}`);
  out.push("");
  out.push(`Configuration: ${configCounts(r.config, "added", "removed")}`);
  out.push(...configLines(r.config, "  "));
  out.push("");
  const d = r.data;
  const simulated = d.simulated.map((s) => `${s.profile} ${s.ma}`).join(", ");
  out.push(`Data impact${simulated ? ` (simulated: ${simulated}; rolled back)` : " (no sync needed)"}:`);
  if (d.removedManagementAgents.length > 0) out.push(`  Removed management agents (clean-up simulated first): ${d.removedManagementAgents.join(", ")}`);
  if (d.managementAgents.length === 0) out.push("  No connector-space or target changes.");
  else {
    const rows = d.managementAgents.map((m) => [m.name, ...MA_COLUMNS.map((c) => n(m[c.key] as number))]);
    out.push(indent(table(["MA", ...MA_COLUMNS.map((c) => c.title.toLowerCase())], rows), "  "));
  }
  const mv = d.metaverse;
  out.push(`  Metaverse: ${n(mv.projections)} projected, ${n(mv.updates)} updated, ${n(mv.deletions)} deleted`);
  for (const m of d.managementAgents) {
    out.push("");
    out.push(`  ${m.name}: ${maSummary(m)}`);
    if (m.threshold) out.push(`    deletion threshold: ${m.threshold.exceeded ? `TRIPPED: ${m.threshold.reason}` : `${n(m.threshold.deletes)} deletes of ${n(m.threshold.total)}, within the limit`}`);
    if (m.updatesByAttribute.length > 0) out.push(`    updates by attribute: ${m.updatesByAttribute.map((a) => `${a.attribute} ${n(a.objects)}`).join(", ")}`);
    for (const [kind, list] of Object.entries(m.samples)) out.push(...sampleLines(kind, list, "    "));
  }
  if (mv.updatesByAttribute.length > 0 || mv.samples.deletions.length + mv.samples.updates.length > 0) {
    out.push("");
    out.push("  metaverse:");
    if (mv.updatesByAttribute.length > 0) out.push(`    updates by attribute: ${mv.updatesByAttribute.map((a) => `${a.attribute} ${n(a.objects)}`).join(", ")}`);
    out.push(...sampleLines("deletions", mv.samples.deletions, "    "));
    out.push(...sampleLines("updates", mv.samples.updates, "    "));
  }
  if (d.errors.count > 0) {
    out.push("");
    out.push(`Sync errors under the new configuration: ${n(d.errors.count)}`);
    for (const e of d.errors.samples) out.push(`  ${e.ma}${e.anchor ? `/${e.anchor}` : ""}: ${e.code}: ${e.message}`);
    if (d.errors.count > d.errors.samples.length) out.push(`  … and ${n(d.errors.count - d.errors.samples.length)} more`);
  }
  const tripped = d.managementAgents.filter((m) => m.threshold?.exceeded);
  if (r.summary.deletes > 0 || mv.deletions > 0 || tripped.length > 0) {
    out.push("");
    if (r.summary.deletes > 0) out.push(`WARNING: this change would delete ${plural(r.summary.deletes, "object")} in connected systems (${d.managementAgents.filter((m) => m.deletes > 0).map((m) => `${m.name}: ${n(m.deletes)}`).join(", ")}).`);
    if (mv.deletions > 0) out.push(`WARNING: this change would delete ${plural(mv.deletions, "metaverse object")}.`);
    for (const m of tripped) out.push(`WARNING: deletion threshold of ${m.name} tripped: ${m.threshold!.reason}; its export would stop until released with --allow-deletes.`);
  }
  if (r.warnings.length > 0) {
    out.push("");
    out.push("Notes:");
    for (const w of r.warnings) out.push(`  - ${w}`);
  }
  out.push("");
  out.push(`Summary: ${headline(r)} (${exitNote(r.summary.changes)})`);
  return out.join("\n") + "\n";
}

export function renderDriftText(r: DriftReport): string {
  const out: string[] = [];
  out.push(`Drift of ${r.configuration}${r.redacted ? " (personal values redacted)" : ""}`);
  for (const c of r.config) {
    out.push("");
    const other = c.against === "engine" ? "the engine" : "the cluster";
    out.push(`Configuration in git vs ${other} (${c.target}): ${configCounts(c.diff, "only in git", `only in ${other}`)}`);
    if (c.diff.changed > 0) out.push(`  (changed fields read: value in ${other} → value in git)`);
    out.push(...configLines(c.diff, "  ", c.against));
  }
  if (r.data) {
    out.push("");
    const total = r.data.managementAgents.reduce((x, m) => x + m.objects, 0);
    out.push(`Data drift (${r.data.database}): ${total === 0 ? "none" : `${plural(total, "object")} in ${plural(r.data.managementAgents.length, "management agent")}`}`);
    if (r.data.simulatedDeltaSyncs.length > 0) out.push(`  (staged imports synced in a rolled-back simulation: ${r.data.simulatedDeltaSyncs.join(", ")})`);
    if (r.data.managementAgents.length > 0) {
      const rows = r.data.managementAgents.map((m) => [m.name, n(m.objects), n(m.pending), n(m.errors), n(m.unconfirmed)]);
      out.push(indent(table(["MA", "objects", "not exported", "export failed", "unconfirmed"], rows), "  "));
    }
    for (const m of r.data.managementAgents) {
      out.push("");
      out.push(`  ${m.name}:`);
      if (m.byAttribute.length > 0) out.push(`    by attribute: ${m.byAttribute.map((a) => `${a.attribute} ${n(a.objects)}`).join(", ")}`);
      for (const s of m.samples) {
        const attrs = Object.entries(s.attributes ?? {}).map(([a, c]) => `${a}: ${"before" in c ? `${value(c.before)} → ` : ""}${value(c.after)}`);
        out.push(`    ${objectName(s)} [${s.op}, ${s.state}] ${s.reason}${s.error ? ` (${s.error})` : ""}`);
        if (s.newDn) out.push(`      DN → ${s.newDn}`);
        for (const a of attrs) out.push(`      ${a}`);
      }
      if (m.objects > m.samples.length) out.push(`    … and ${n(m.objects - m.samples.length)} more`);
    }
  }
  if (r.warnings.length > 0) {
    out.push("");
    out.push("Notes:");
    for (const w of r.warnings) out.push(`  - ${w}`);
  }
  out.push("");
  out.push(`Summary: ${r.summary.changes ? `${plural(r.summary.configDrift, "configuration difference")}, ${plural(r.summary.dataDrift, "drifted object")}` : "no drift"} (${exitNote(r.summary.changes)})`);
  return out.join("\n") + "\n";
}

function configCounts(d: ConfigDiff, added: string, removed: string): string {
  if (d.added + d.changed + d.removed === 0) return `no changes (${plural(d.unchanged, "resource")} unchanged)`;
  return `${n(d.changed)} changed, ${n(d.added)} ${added}, ${n(d.removed)} ${removed} (${n(d.unchanged)} unchanged)`;
}

function configLines(d: ConfigDiff, pad: string, against?: "engine" | "cluster"): string[] {
  const out: string[] = [];
  for (const r of d.resources) {
    const where = r.change === "removed" ? (against ? ` (only in the ${against})` : " (removed)") : r.file ? ` (${r.file})` : "";
    out.push(`${pad}${SIGN[r.change]} ${r.kind}/${r.namespace ? `${r.namespace}/` : ""}${r.name}${where}`);
    for (const f of r.fields) out.push(`${pad}    ${fieldLine(f)}`);
  }
  return out;
}

export function fieldLine(f: FieldChange): string {
  if (f.change === "added") return `${f.path}: added ${value(f.after)}`;
  if (f.change === "removed") return `${f.path}: removed (was ${value(f.before)})`;
  if (f.change === "reordered") return `${f.path}: reordered ${value(f.before)} → ${value(f.after)}`;
  return `${f.path}: ${value(f.before)} → ${value(f.after)}`;
}

function sampleLines(kind: string, list: ObjectSample[], pad: string): string[] {
  if (list.length === 0) return [];
  const out = [`${pad}sample ${kind}:`];
  for (const s of list) {
    const attrs = Object.entries(s.attributes ?? {}).map(([a, c]) => `${a}: ${"before" in c ? `${value(c.before, 80)} → ` : ""}${value(c.after, 80)}`);
    out.push(`${pad}  ${objectName(s)}${s.newDn ? ` → ${s.newDn}` : ""}${attrs.length > 0 ? `: ${attrs.join("; ")}` : ""}`);
  }
  return out;
}

function indent(text: string, pad: string): string {
  return text.split("\n").map((l) => pad + l).join("\n");
}
