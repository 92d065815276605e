// Export: read the whole file keyed by anchor, apply the operations in order, rewrite the file
// atomically (temp file in the same directory, fsync, rename) so that a reader — or a crash — only
// ever sees the old or the new content, never half of it.
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { AttributeSpec } from "../../config/model.ts";
import { anchorOf, type Attributes, type ExportOperation, type ExportResult } from "../types.ts";
import { SourceMissingError } from "../errors.ts";
import { CsvFileReader, CsvFormatError, type CsvHead } from "./read.ts";
import { formatBytes, MAX_RECORD_BYTES } from "./limits.ts";
import { ColumnMap, declaredColumns, decodeCell, encodeCell, escapeFormula, sameDecoded, unescapeFormula, type CsvSchema } from "./schema.ts";

export interface CsvTarget extends CsvSchema {
  delimiter: string;
  /** The most rows the file may hold (csv.maxObjects). */
  maxObjects: number;
  /** The folder the file must stay in, symbolic links followed (connectors/files.ts); absent: anywhere. */
  root?: string;
}

/** The file as the export sees it: rows in output layout (declared columns, then the file's others). */
interface Table {
  head: CsvHead | undefined;
  columns: string[];
  rows: Map<string, string[]>;
}

type Loaded = { table: Table } | { malformed: string };

export async function applyExports(t: CsvTarget, ops: ExportOperation[]): Promise<ExportResult[]> {
  const loaded = await loadTable(t);
  if ("malformed" in loaded) {
    // The engine must not destroy data it cannot read: rewriting the file would drop the rows we
    // could not parse. Nothing is written until someone fixes the file; then the exports retry.
    const message = `${loaded.malformed}; fix the file, the exports stay pending until then`;
    return ops.map((op) => ({ id: op.id, ok: false, code: "target-file-malformed", message, retryable: true }));
  }
  const { table } = loaded;
  const apply = new Applier(t, table);
  const results = ops.map((op) => apply.run(op));
  if (apply.changed) await writeFileAtomic(t.file, serialize(t, table));
  return results;
}

async function loadTable(t: CsvTarget): Promise<Loaded> {
  const declared = declaredColumns(t.type);
  const reader = new CsvFileReader(t.file, t.delimiter);
  const rows = new Map<string, string[]>();
  const problems: string[] = [];
  let map: ColumnMap | undefined;
  let project: ((cells: string[]) => string[]) | undefined;
  let columns = declared.map((a) => a.name);
  const prepare = (head: CsvHead) => {
    map = new ColumnMap(t, head.columns, head.line);
    const m = map;
    const from = declared.map((a) => m.attributeOf.findIndex((x) => x?.name === a.name));
    // Columns the schema does not declare are kept as they are: they are someone's data too.
    const extra = head.columns.flatMap((_, i) => (m.attributeOf[i] ? [] : [i]));
    columns = [...columns, ...extra.map((i) => head.columns[i])];
    // With escapeFormulas every declared cell is written escaped, in rows no operation touches
    // too (a cell another tool wrote as =x becomes '=x, read back as the same value).
    const cell = t.escapeFormulas ? (c: string) => escapeFormula(unescapeFormula(c)) : (c: string) => c;
    project = (cells) => [...from.map((i) => (i === -1 ? "" : cell(cells[i]))), ...extra.map((i) => cells[i])];
  };
  try {
    const lineOf = new Map<string, number>();
    let count = 0;
    for await (const chunk of reader.chunks()) {
      if (!map && reader.head) prepare(reader.head);
      for (const rec of chunk) {
        if (++count > t.maxObjects) return { malformed: `${t.file}: more than ${t.maxObjects} rows, the most the file may hold (csv.maxObjects)` };
        if ("code" in rec) {
          problems.push(`line ${rec.line}: ${rec.message}`);
          continue;
        }
        const d = map!.decode(rec);
        if ("problem" in d) {
          problems.push(`${d.problem.location}: ${d.problem.message}`);
          continue;
        }
        const before = lineOf.get(d.object.anchor);
        if (before !== undefined) {
          problems.push(`line ${rec.line}: anchor '${d.object.anchor}' already on line ${before}`);
          continue;
        }
        lineOf.set(d.object.anchor, rec.line);
        rows.set(d.object.anchor, project!(rec.cells));
      }
    }
    if (!map && reader.head) prepare(reader.head);
  } catch (e) {
    if (e instanceof CsvFormatError) return { malformed: e.message };
    // The first export creates the file.
    if (!(e instanceof SourceMissingError)) throw e;
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 3).join("; ");
    return { malformed: `${t.file}: ${problems.length} malformed row(s) (${shown}${problems.length > 3 ? "; …" : ""})` };
  }
  return { table: { head: reader.head, columns, rows } };
}

/** Applies operations one by one to the table; each either applies whole or not at all. */
class Applier {
  changed = false;
  private readonly index = new Map<string, { attr: AttributeSpec; k: number }>();
  private readonly lower = new Map<string, { attr: AttributeSpec; k: number }>();
  private readonly anchorSlots: Array<{ attr: AttributeSpec; k: number }>;

  constructor(
    private readonly t: CsvTarget,
    private readonly table: Table,
  ) {
    declaredColumns(t.type).forEach((attr, k) => {
      this.index.set(attr.name, { attr, k });
      if (!this.lower.has(attr.name.toLowerCase())) this.lower.set(attr.name.toLowerCase(), { attr, k });
    });
    this.anchorSlots = t.type.anchor.map((n) => this.index.get(n)!);
  }

  run(op: ExportOperation): ExportResult {
    const fail = (code: string, message: string, retryable = false): ExportResult => ({
      id: op.id,
      ok: false,
      code,
      message: `${this.t.file}: ${op.objectType}${op.anchor !== undefined ? ` '${op.anchor}'` : ""}: ${message}`,
      retryable,
    });
    if (op.objectType !== this.t.type.name) {
      return fail("unknown-object-type", `this file holds object type '${this.t.type.name}' only`);
    }
    const { rows } = this.table;
    if (op.op === "add") {
      const cells = new Array<string>(this.table.columns.length).fill("");
      for (const [name, value] of Object.entries(op.attrs)) {
        const slot = this.slot(name);
        if (!slot) return fail("unknown-attribute", `attribute '${name}' is not declared for '${op.objectType}'`);
        const e = encodeCell(slot.attr, value, this.t.separator, this.t.escapeFormulas);
        if (!e.ok) return fail(e.code ?? "invalid-value", e.message);
        cells[slot.k] = e.cell;
      }
      const big = rowTooLarge(cells);
      if (big) return fail("value-too-large", big);
      // The anchor as an import of the written row will compute it (e.g. integer "007" → "7").
      const anchor = this.anchorOfCells(cells);
      if (anchor === undefined) return fail("missing-anchor", `no value for anchor attribute(s) ${this.t.type.anchor.join(", ")}`);
      if (rows.has(anchor)) return fail("already-exists", `an object with anchor '${anchor}' is already in the file`);
      if (rows.size >= this.t.maxObjects) {
        return fail("too-many-objects", `the file holds ${rows.size} objects, the most it may (csv.maxObjects: ${this.t.maxObjects})`);
      }
      rows.set(anchor, cells);
      this.changed = true;
      return { id: op.id, ok: true, anchor };
    }
    const anchor = op.anchor;
    if (anchor === undefined) return fail("missing-anchor", "the operation carries no anchor");
    const row = rows.get(anchor);
    if (!row) return fail("no-such-object", `no object with anchor '${anchor}' in the file`);
    if (op.op === "delete") {
      rows.delete(anchor);
      this.changed = true;
      // Results are handed back only once the rewritten file is in place: the row is gone for sure.
      return { id: op.id, ok: true, anchor, confirmed: true };
    }
    const next = row.slice();
    let touched = false;
    let touchesAnchor = false;
    for (const [name, change] of Object.entries(op.changes)) {
      const slot = this.slot(name);
      if (!slot) return fail("unknown-attribute", `attribute '${name}' is not declared for '${op.objectType}'`);
      const e = encodeCell(slot.attr, change.replace, this.t.separator, this.t.escapeFormulas);
      if (!e.ok) return fail(e.code ?? "invalid-value", e.message);
      // An equal value keeps its cell as written (say "yes" for true): no needless diff in the file.
      const { separator, escapeFormulas } = this.t;
      if (sameDecoded(decodeCell(slot.attr, row[slot.k], separator, escapeFormulas), decodeCell(slot.attr, e.cell, separator, escapeFormulas))) continue;
      next[slot.k] = e.cell;
      touched = true;
      if (this.t.type.anchor.includes(slot.attr.name)) touchesAnchor = true;
    }
    if (touchesAnchor && this.anchorOfCells(next) !== anchor) {
      return fail("anchor-change-unsupported", `changing anchor attribute(s) ${this.t.type.anchor.join(", ")} is not supported`);
    }
    const big = touched ? rowTooLarge(next) : undefined;
    if (big) return fail("value-too-large", big);
    if (touched) {
      rows.set(anchor, next);
      this.changed = true;
    }
    return { id: op.id, ok: true, anchor };
  }

  private slot(name: string) {
    return this.index.get(name) ?? this.lower.get(name.toLowerCase());
  }

  private anchorOfCells(cells: string[]): string | undefined {
    const attrs: Attributes = {};
    for (const { attr, k } of this.anchorSlots) {
      const d = decodeCell(attr, cells[k], this.t.separator, this.t.escapeFormulas);
      if (!d.ok) return undefined;
      attrs[attr.name] = d.value;
    }
    return anchorOf(this.t.type, attrs);
  }
}

/** Why a row is too long to be read back (limits.ts), or undefined. */
function rowTooLarge(cells: string[]): string | undefined {
  let chars = 0;
  for (const c of cells) chars += c.length + 1;
  if (chars * 3 <= MAX_RECORD_BYTES) return undefined;
  const bytes = cells.reduce((n, c) => n + Buffer.byteLength(c) + 3, 0);
  return bytes > MAX_RECORD_BYTES ? `the row would be ${formatBytes(bytes)}, more than the ${formatBytes(MAX_RECORD_BYTES)} a line may hold` : undefined;
}

/** RFC 4180 text, rows sorted by anchor (code-unit order: the same on every machine). */
function serialize(t: CsvTarget, table: Table): string {
  const d = t.delimiter;
  const special = new RegExp(`["\\r\\n]|${d.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}|^\\s|\\s$`);
  // Surrounding spaces are quoted too: other readers commonly trim unquoted cells.
  const quote = (c: string) => (c === "" ? "" : special.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
  const lines = [table.columns.map(quote).join(d)];
  const anchors = [...table.rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const a of anchors) lines.push(table.rows.get(a)!.map(quote).join(d));
  const eol = table.head?.crlf ? "\r\n" : "\n";
  return (table.head?.bom ? "\uFEFF" : "") + lines.join(eol) + eol;
}

/** Replaces `file` with `content` atomically: the same directory keeps the rename on one file system. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const mode = await stat(file).then(
    (s) => s.mode & 0o7777,
    () => undefined,
  );
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", mode ?? 0o644);
  try {
    try {
      if (mode !== undefined) await fh.chmod(mode); // the umask must not loosen or tighten the original's mode
      await fh.writeFile(content, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`${file}: could not write: ${(e as Error).message}`);
  }
  // Make the rename itself durable; not every platform can fsync a directory.
  try {
    const dh = await open(dir, "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* best effort */
  }
}
