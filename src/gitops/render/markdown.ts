// Markdown reports, ready to post as a pull-request comment: a headline, a prominent warning when
// anything would be deleted, a summary table, and the details folded. GitHub refuses comments over
// 65,536 characters, so the body is built against a budget (60,000 by default): whatever does not
// fit is left out with a count of what was left out, however large the plan.
import type { AttributeCount, ConfigDiff, DriftReport, ManagementAgentDrift, ManagementAgentImpact, ObjectSample, PlanReport } from "../model.ts";
import { fieldLine } from "./text.ts";
import { exitNote, headline, MA_COLUMNS, maSummary, n, objectName, plural, value } from "./format.ts";

export const MARKDOWN_LIMIT = 60_000;
/** Kept free for the closing lines: the omission note and the footer. */
const TAIL = 800;
const MAX_TABLE_ROWS = 50;
/** MAs named in the warning at the top; the table below lists them all. */
const CAUTION_ITEMS = 10;
/** The configuration diff may use at most this share of the budget; the MAs share the rest. */
const CONFIG_SHARE = 0.35;
/** No section gets less room than this, however many there are: better fewer, readable ones. */
const MIN_SECTION = 3_000;

function capped(items: string[], max: number): string {
  return items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")} and ${n(items.length - max)} more`;
}

/** Appends blocks while they fit; sections opened with `open` are always closed. */
class Budget {
  private parts: string[] = [];
  private used = 0;
  private closers: string[] = [];
  private reserved = 0;
  omitted = 0;
  constructor(private readonly limit: number) {}
  /** While set: the most the current section may still use (see section()). */
  private cap = Infinity;
  fits(text: string): boolean {
    return this.used + this.reserved + text.length + TAIL <= this.limit && text.length <= this.cap;
  }
  add(text: string): boolean {
    if (!this.fits(text)) return false;
    this.parts.push(text);
    this.used += text.length;
    this.cap -= text.length;
    return true;
  }
  /**
   * Runs fn as a section that may use at most `share` characters, so that one huge section (a
   * large configuration diff) cannot crowd out every other one.
   */
  section(share: number, fn: () => void): void {
    const outer = this.cap;
    const before = this.used;
    this.cap = Math.min(outer, share);
    try {
      fn();
    } finally {
      this.cap = outer - (this.used - before);
    }
  }
  get limitChars(): number {
    return this.limit;
  }
  /** Opens a section whose closing text is reserved now, so it can always be written. */
  open(text: string, closer: string): boolean {
    if (!this.fits(text + closer)) return false;
    this.add(text);
    this.closers.push(closer);
    this.reserved += closer.length;
    return true;
  }
  close(): void {
    const closer = this.closers.pop()!;
    this.reserved -= closer.length;
    this.parts.push(closer);
    this.used += closer.length;
  }
  /** Adds items one by one; those that do not fit are counted in one closing line. */
  list(items: string[], total = items.length, what = "more"): void {
    let shown = 0;
    for (const item of items) {
      if (!this.add(item)) break;
      shown++;
    }
    const rest = total - shown;
    if (rest > 0) this.add(`- … and ${n(rest)} ${what}\n`) || this.omitted++;
  }
  /** The finished text: the tail is always room enough for the footer. */
  finish(footer: string): string {
    while (this.closers.length > 0) this.close();
    const note = this.omitted > 0 ? `\n_${plural(this.omitted, "section")} left out to keep this comment under ${n(this.limit)} characters; \`-o json\` has the complete report._\n` : "";
    return (this.parts.join("") + note + footer).slice(0, this.limit - 1);
  }
}

/** `text` as an inline code span that survives backticks, pipes (in tables) and newlines. */
export function code(text: string, inTable = false): string {
  let t = text.replace(/[\r\n]+/g, " ");
  if (inTable) t = t.replace(/\|/g, "\\|");
  const ticks = Math.max(0, ...[...t.matchAll(/`+/g)].map((m) => m[0].length)) + 1;
  const fence = "`".repeat(ticks);
  const pad = t.startsWith("`") || t.endsWith("`") ? " " : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

export function renderPlanMarkdown(r: PlanReport, opts: { limit?: number } = {}): string {
  const b = new Budget(opts.limit ?? MARKDOWN_LIMIT);
  const d = r.data;
  const mv = d.metaverse;
  b.add(`### idsync plan: ${headline(r)}\n\n`);
  const tripped = d.managementAgents.filter((m) => m.threshold?.exceeded);
  if (r.summary.deletes > 0 || mv.deletions > 0 || tripped.length > 0) {
    const lines: string[] = [];
    if (r.summary.deletes > 0) {
      const where = d.managementAgents.filter((m) => m.deletes > 0).map((m) => `${code(m.name)}: ${n(m.deletes)}`);
      lines.push(`**This change would delete ${plural(r.summary.deletes, "object")} in connected systems** (${capped(where, CAUTION_ITEMS)}).`);
    }
    if (mv.deletions > 0) lines.push(`**It would delete ${plural(mv.deletions, "metaverse object")}** (identities).`);
    if (tripped.length === 1) {
      lines.push(`**Deletion threshold tripped** in ${code(tripped[0].name)}: ${tripped[0].threshold!.reason}. Its export would stop until released with \`--allow-deletes\`.`);
    } else if (tripped.length > 1) {
      const which = tripped.map((m) => `${code(m.name)} (${m.threshold!.reason})`);
      lines.push(`**Deletion thresholds tripped** in ${n(tripped.length)} management agents: ${capped(which, CAUTION_ITEMS)}. Their exports would stop until released with \`--allow-deletes\`.`);
    }
    b.list([`> [!CAUTION]\n`, ...lines.map((l, i) => `> ${l}\n${i < lines.length - 1 ? ">\n" : ""}`), "\n"]);
  }
  if (!r.summary.changes) {
    b.add("The configuration matches what the engine has applied, and a sync under it would change no data.\n\n");
  }
  if (d.managementAgents.length > 0) {
    const cols = MA_COLUMNS.filter((c) => d.managementAgents.some((m) => (m[c.key] as number) > 0));
    b.add(`| Management agent | ${cols.map((c) => c.title).join(" | ")} | Deletion threshold |\n| :-- | ${cols.map(() => "--:").join(" | ")} | :-- |\n`);
    const rows = d.managementAgents.map((m) => {
      const t = m.threshold ? (m.threshold.exceeded ? "⛔ tripped" : "within") : "–";
      const cells = cols.map((c) => {
        const v = m[c.key] as number;
        return c.key === "deletes" && v > 0 ? `**${n(v)}**` : n(v);
      });
      return `| ${code(m.name, true)} | ${cells.join(" | ")} | ${t} |\n`;
    });
    b.list(rows.slice(0, MAX_TABLE_ROWS), rows.length, "more management agents");
    b.add("\n");
  }
  if (mv.projections + mv.updates + mv.deletions > 0) {
    b.add(`**Metaverse:** ${n(mv.projections)} projected · ${n(mv.updates)} updated · ${mv.deletions > 0 ? `**${n(mv.deletions)} deleted**` : "0 deleted"}\n\n`);
  }
  if (d.errors.count > 0) b.add(`> [!WARNING]\n> The sync under the new configuration would report ${plural(d.errors.count, "object error")}.\n\n`);
  if (r.warnings.length > 0) b.list(r.warnings.map((w) => `- ${w}\n`).concat("\n"));

  b.section(Math.floor(b.limitChars * CONFIG_SHARE), () => configSection(b, r.config, "Configuration changes", { added: "added", removed: "removed" }));
  const share = Math.max(MIN_SECTION, Math.floor((b.limitChars * (1 - CONFIG_SHARE)) / Math.max(1, d.managementAgents.length + 1)));
  for (const m of d.managementAgents) b.section(share, () => maSection(b, m));
  if (mv.updatesByAttribute.length + mv.samples.deletions.length + mv.samples.updates.length > 0) b.section(share, () => metaverseSection(b, r));
  if (d.errors.count > 0) b.section(share, () => errorSection(b, r));
  const runs = d.simulated.map((s) => `${s.profile} ${s.ma}`);
  const simulated = runs.length === 0 ? "none needed" : capped(runs, 5);
  return b.finish(
    `<sub>idsync plan of ${code(r.configuration)} against ${code(r.database)} · simulated (rolled back): ${escapeHtml(simulated)}${r.redacted ? " · personal values redacted" : ""} · ${r.generatedAt} · ${exitNote(r.summary.changes)}</sub>\n`,
  );
}

function maSection(b: Budget, m: ManagementAgentImpact): void {
  if (!b.open(`<details><summary><b>${escapeHtml(m.name)}</b>: ${escapeHtml(maSummary(m))}</summary>\n\n`, "</details>\n\n")) {
    b.omitted++;
    return;
  }
  if (m.threshold) {
    b.add(m.threshold.exceeded ? `⛔ **Deletion threshold tripped:** ${m.threshold.reason}.\n\n` : `Deletion threshold: ${n(m.threshold.deletes)} deletes of ${n(m.threshold.total)} objects, within the limit.\n\n`);
  }
  attributeTable(b, "Updates by attribute", m.updatesByAttribute);
  for (const [kind, list] of Object.entries(m.samples)) sampleList(b, kind, list, (m as unknown as Record<string, number>)[kind]);
  b.close();
}

function metaverseSection(b: Budget, r: PlanReport): void {
  const mv = r.data.metaverse;
  if (b.open(`<details><summary><b>Metaverse</b>: ${n(mv.updates)} updated, ${n(mv.deletions)} deleted</summary>\n\n`, "</details>\n\n")) {
    attributeTable(b, "Updates by attribute", mv.updatesByAttribute);
    sampleList(b, "deletions", mv.samples.deletions, mv.deletions);
    sampleList(b, "updates", mv.samples.updates, mv.updates);
    b.close();
  } else b.omitted++;
}

function errorSection(b: Budget, r: PlanReport): void {
  const d = r.data;
  if (b.open(`<details><summary><b>Sync errors</b> (${n(d.errors.count)})</summary>\n\n`, "</details>\n\n")) {
    b.list(d.errors.samples.map((e) => `- ${code(`${e.ma}${e.anchor ? `/${e.anchor}` : ""}`)} ${code(e.code)}: ${escapeHtml(e.message)}\n`), d.errors.count);
    b.add("\n");
    b.close();
  } else b.omitted++;
}

export function renderDriftMarkdown(r: DriftReport, opts: { limit?: number } = {}): string {
  const b = new Budget(opts.limit ?? MARKDOWN_LIMIT);
  const s = r.summary;
  b.add(`### idsync drift: ${s.changes ? `${plural(s.configDrift, "configuration difference")}, ${plural(s.dataDrift, "drifted object")}` : "no drift"}\n\n`);
  if (r.config.length > 0) {
    b.add(`| Git vs | Target | Changed | Only in git | Only there |\n| :-- | :-- | --: | --: | --: |\n`);
    for (const c of r.config) b.add(`| ${c.against} | ${code(c.target, true)} | ${n(c.diff.changed)} | ${n(c.diff.added)} | ${n(c.diff.removed)} |\n`);
    b.add("\n");
  }
  if (r.data && r.data.managementAgents.length > 0) {
    b.add(`| Management agent | Drifted objects | Not exported | Export failed | Unconfirmed |\n| :-- | --: | --: | --: | --: |\n`);
    const rows = r.data.managementAgents.map((m) => `| ${code(m.name, true)} | ${n(m.objects)} | ${n(m.pending)} | ${n(m.errors)} | ${n(m.unconfirmed)} |\n`);
    b.list(rows.slice(0, MAX_TABLE_ROWS), rows.length, "more management agents");
    b.add("\n");
  }
  if (r.warnings.length > 0) b.list(r.warnings.map((w) => `- ${w}\n`).concat("\n"));
  const configShare = Math.floor((b.limitChars * CONFIG_SHARE) / Math.max(1, r.config.length));
  for (const c of r.config) {
    const other = c.against === "engine" ? "the engine" : "the cluster";
    b.section(configShare, () => configSection(b, c.diff, `Configuration: git vs ${other}`, { added: "only in git", removed: `only in ${other}` }, `Changed fields read: value in ${other} → value in git.\n\n`));
  }
  const mas = r.data?.managementAgents ?? [];
  const share = Math.max(MIN_SECTION, Math.floor((b.limitChars * (1 - CONFIG_SHARE)) / Math.max(1, mas.length)));
  for (const m of mas) b.section(share, () => driftSection(b, m));
  return b.finish(`<sub>idsync drift of ${code(r.configuration)}${r.redacted ? " · personal values redacted" : ""} · ${r.generatedAt} · ${exitNote(s.changes)}</sub>\n`);
}

function driftSection(b: Budget, m: ManagementAgentDrift): void {
  if (!b.open(`<details><summary><b>${escapeHtml(m.name)}</b>: ${plural(m.objects, "drifted object")}</summary>\n\n`, "</details>\n\n")) {
    b.omitted++;
    return;
  }
  attributeTable(b, "By attribute", m.byAttribute);
  b.list(
    m.samples.map((o) => `- ${code(objectName(o))} ${o.op}, ${o.state}: ${escapeHtml(o.reason)}${o.error ? ` (${code(o.error)})` : ""}${attributeText(o.attributes)}${o.newDn ? ` · DN → ${code(o.newDn)}` : ""}\n`),
    m.objects,
  );
  b.add("\n");
  b.close();
}

function configSection(b: Budget, d: ConfigDiff, title: string, words: { added: string; removed: string }, legend = ""): void {
  if (d.resources.length === 0) return;
  const counts = `${n(d.changed)} changed, ${n(d.added)} ${words.added}, ${n(d.removed)} ${words.removed}`;
  if (!b.open(`<details><summary><b>${escapeHtml(title)}</b>: ${escapeHtml(counts)}</summary>\n\n`, "</details>\n\n")) {
    b.omitted++;
    return;
  }
  if (d.changed > 0 && legend) b.add(legend);
  const lines: string[] = [];
  for (const r of d.resources) {
    const what = r.change === "added" ? words.added : r.change === "removed" ? words.removed : "changed";
    lines.push(`- **${escapeHtml(what)}** ${code(`${r.kind}/${r.namespace ? `${r.namespace}/` : ""}${r.name}`)}${r.file ? ` (${code(r.file)})` : ""}\n`);
    for (const f of r.fields) lines.push(`  - ${code(fieldLine(f))}\n`);
  }
  b.list(lines, lines.length, "more lines");
  b.add("\n");
  b.close();
}

function attributeTable(b: Budget, title: string, counts: AttributeCount[]): void {
  if (counts.length === 0) return;
  b.add(`${title}:\n\n| Attribute | Objects |\n| :-- | --: |\n`);
  const rows = counts.map((a) => `| ${code(a.attribute, true)} | ${n(a.objects)} |\n`);
  b.list(rows.slice(0, MAX_TABLE_ROWS), rows.length, "more attributes");
  b.add("\n");
}

function sampleList(b: Budget, kind: string, list: ObjectSample[], total: number | undefined): void {
  if (list.length === 0) return;
  const of = total !== undefined && total > list.length ? ` (${n(list.length)} of ${n(total)})` : "";
  if (!b.add(`Sample ${kind}${of}:\n\n`)) return;
  b.list(list.map((s) => `- ${code(objectName(s))}${s.newDn ? ` → ${code(s.newDn)}` : ""}${attributeText(s.attributes)}\n`));
  b.add("\n");
}

function attributeText(attributes: ObjectSample["attributes"]): string {
  const entries = Object.entries(attributes ?? {});
  if (entries.length === 0) return "";
  const shown = entries.slice(0, 12).map(([a, c]) => `${code(a)} ${"before" in c ? `${code(value(c.before, 80))} → ` : ""}${code(value(c.after, 80))}`);
  return `: ${shown.join("; ")}${entries.length > 12 ? `; … ${n(entries.length - 12)} more attributes` : ""}`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
