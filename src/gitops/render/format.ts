// Formatting shared by the text and Markdown renderers: numbers, values, object names, summaries.
import { REDACTED } from "../../privacy/redact.ts";
import type { ManagementAgentImpact, ObjectSample, PlanReport } from "../model.ts";

/** 1234567 → "1,234,567" (fixed locale: reports must not depend on the machine's). */
export function n(x: number): string {
  return x.toLocaleString("en-US");
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${n(count)} ${count === 1 ? one : many}`;
}

/** A value as one line: strings quoted, lists bracketed, long values cut with a count. */
export function value(v: unknown, max = 160): string {
  let s: string;
  if (v === undefined || v === null) s = "(none)";
  else if (v === REDACTED) s = REDACTED; // not quoted: it is not the value
  else if (typeof v === "string") s = JSON.stringify(v);
  else s = JSON.stringify(v) ?? String(v);
  s = s.replace(/[\r\n]+/g, " ");
  return s.length > max ? `${s.slice(0, max)}… (${n(s.length - max)} more characters)` : s;
}

/** How a sample object is named: anchor, DN, or metaverse id with its connectors. */
export function objectName(s: ObjectSample): string {
  if (s.metaverseId !== undefined) return `metaverse object ${s.metaverseId}${s.connectors && s.connectors.length > 0 ? ` (${s.connectors.join(", ")})` : ""}`;
  if (s.anchor !== undefined && s.dn !== undefined) return `${s.anchor} (${s.dn})`;
  return s.anchor ?? s.dn ?? "(unnamed object)";
}

export const MA_COLUMNS: Array<{ key: keyof ManagementAgentImpact & string; title: string }> = [
  { key: "adds", title: "Adds" },
  { key: "updates", title: "Updates" },
  { key: "renames", title: "Renames" },
  { key: "deletes", title: "Deletes" },
  { key: "provisions", title: "Provisions" },
  { key: "deprovisions", title: "Deprovisions" },
  { key: "joins", title: "Joins" },
  { key: "projections", title: "Projections" },
  { key: "disconnects", title: "Disconnects" },
];

/** "1,200 updates, 30 deletes" — the non-zero counts of an MA. */
export function maSummary(m: ManagementAgentImpact): string {
  const parts = MA_COLUMNS.filter((c) => (m[c.key] as number) > 0).map((c) => plural(m[c.key] as number, c.title.toLowerCase().replace(/s$/, "")));
  if (m.cancelled > 0) parts.push(`${n(m.cancelled)} pending export${m.cancelled === 1 ? "" : "s"} cancelled`);
  return parts.join(", ") || "no object changes";
}

export function headline(r: PlanReport): string {
  if (!r.summary.changes) return "no changes";
  const parts: string[] = [];
  if (r.summary.configChanges > 0) parts.push(plural(r.summary.configChanges, "configuration change"));
  if (r.summary.objectChanges > 0) parts.push(plural(r.summary.objectChanges, "object change"));
  if (r.summary.deletes > 0) parts.push(plural(r.summary.deletes, "delete"));
  const mv = r.data.metaverse;
  if (mv.deletions > 0) parts.push(plural(mv.deletions, "metaverse deletion"));
  if (parts.length === 0) parts.push("metaverse or connector changes only");
  return parts.join(", ");
}

/** What the exit code will be, in words, for the report's last line. */
export function exitNote(changes: boolean): string {
  return changes ? "exit code 2: changes" : "exit code 0: no changes";
}

/** A fixed-width text table: first column left-aligned, the others (counts) right-aligned. */
export function table(headers: string[], rows: string[][]): string {
  const cells = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd()).join("\n");
}
