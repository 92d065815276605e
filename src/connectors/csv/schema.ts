// The meeting point of a CSV table and the declared schema: which column is which attribute, how a
// cell becomes a typed value (import) and how a value becomes a cell (export). Both directions live
// here so that whatever the connector writes, it reads back unchanged.
import type { AttributeSpec, ObjectTypeSpec } from "../../config/model.ts";
import { anchorOf, type AttrValue, type Attributes, type ImportedObject, type ImportProblem } from "../types.ts";
import type { CsvRecord } from "./parse.ts";
import { CsvFormatError } from "./read.ts";
import { exceeds, formatBytes, MAX_CELL_BYTES, MAX_VALUE_BYTES } from "./limits.ts";

export interface CsvSchema {
  file: string;
  type: ObjectTypeSpec;
  separator: string;
  /** csv.escapeFormulas: cells that a spreadsheet would run as a formula carry a leading '. */
  escapeFormulas: boolean;
}

// ---------------------------------------------------------------- formula escaping
//
// A spreadsheet runs a cell that starts with = + - @ (or tab, CR: OWASP's list) as a formula. With
// csv.escapeFormulas such a cell is written with a leading ', which spreadsheets take as "text"
// and do not show. So that every value reads back exactly as written, a value that already starts
// with ' followed by one of those characters ('=x, ''=x) gets one more; reading takes one ' off a
// cell that starts with one or more ' followed by one of them, and leaves every other cell alone
// ('t Hooft stays as it is).
const NEEDS_ESCAPE = /^'*[=+\-@\t\r]/;
const ESCAPED = /^'+[=+\-@\t\r]/;

/** The cell as written with escapeFormulas. */
export function escapeFormula(cell: string): string {
  return NEEDS_ESCAPE.test(cell) ? `'${cell}` : cell;
}

/** The value of a cell read with escapeFormulas. */
export function unescapeFormula(cell: string): string {
  return ESCAPED.test(cell) ? cell.slice(1) : cell;
}

/** Declared attributes in file order: anchor attributes first, then the others as declared. */
export function declaredColumns(type: ObjectTypeSpec): AttributeSpec[] {
  const byName = new Map(type.attributes.map((a) => [a.name, a]));
  const anchors = type.anchor.map((n) => byName.get(n) ?? { name: n });
  return [...anchors, ...type.attributes.filter((a) => !type.anchor.includes(a.name))];
}

export type Decoded = { ok: true; value: AttrValue } | { ok: false; message: string; code?: string };

/**
 * A value (or cell) over its size limit, described as "`what` '`name`' holds …"; undefined when it
 * is within it. The description is built only for a value over the limit: this runs for every cell.
 */
function tooLarge(what: string, name: string, text: string, limit: number): { ok: false; code: string; message: string } | undefined {
  const bytes = exceeds(text, limit);
  if (bytes === undefined) return undefined;
  return { ok: false, code: "value-too-large", message: `${what} '${name}' holds ${formatBytes(bytes)}; at most ${formatBytes(limit)} is allowed` };
}

/**
 * A cell's value: "" is absent (null); multi-valued cells split on the separator. With
 * `escapeFormulas` the cell is unescaped first (escapeFormula's inverse).
 */
export function decodeCell(attr: AttributeSpec, raw: string, separator: string, escapeFormulas = false): Decoded {
  if (raw === "") return { ok: true, value: null };
  // PostgreSQL stores no NUL in text or jsonb: one such cell must fail its row, not the import.
  if (raw.includes("\u0000")) return { ok: false, message: `column '${attr.name}' holds a NUL character (U+0000), which no attribute value may hold` };
  const big = tooLarge("column", attr.name, raw, attr.multiValued ? MAX_CELL_BYTES : MAX_VALUE_BYTES);
  if (big) return big;
  if (escapeFormulas) raw = unescapeFormula(raw);
  if (attr.multiValued) {
    const values: string[] = [];
    for (const part of raw.split(separator)) {
      const v = part.trim();
      if (v === "") continue;
      const one = tooLarge("a value of column", attr.name, v, MAX_VALUE_BYTES);
      if (one) return one;
      const d = decodeScalar(attr, v);
      if (!d.ok) return d;
      values.push(String(d.value));
    }
    return { ok: true, value: values.length > 0 ? values : null };
  }
  return decodeScalar(attr, raw);
}

const INTEGER = /^[+-]?\d+$/;
const TRUE = new Set(["true", "1", "yes"]);
const FALSE = new Set(["false", "0", "no"]);

function decodeScalar(attr: AttributeSpec, raw: string): Decoded {
  switch (attr.type) {
    case "integer": {
      const t = raw.trim();
      const n = Number(t);
      if (!INTEGER.test(t) || !Number.isSafeInteger(n)) return { ok: false, message: `column '${attr.name}' is not an integer` };
      return { ok: true, value: n };
    }
    case "boolean": {
      const t = raw.trim().toLowerCase();
      if (TRUE.has(t)) return { ok: true, value: true };
      if (FALSE.has(t)) return { ok: true, value: false };
      return { ok: false, message: `column '${attr.name}' is not a boolean (true/false, 1/0, yes/no)` };
    }
    default:
      return { ok: true, value: raw };
  }
}

/** Whether two decoded cells hold the same value (order of multi-values matters: it is what is written). */
export function sameDecoded(a: Decoded, b: Decoded): boolean {
  if (!a.ok || !b.ok) return false;
  return JSON.stringify(a.value) === JSON.stringify(b.value);
}

export type Encoded = { ok: true; cell: string } | { ok: false; message: string; code?: string };

/**
 * The cell for a value; refuses what would not read back as the same value, and what is over the
 * size limits (each value 64 KiB, a multi-valued cell 1 MiB). With `escapeFormulas` the cell is
 * escaped (escapeFormula).
 */
export function encodeCell(attr: AttributeSpec, value: AttrValue | undefined, separator: string, escapeFormulas = false): Encoded {
  const e = encodePlain(attr, value, separator);
  if (!e.ok) return e;
  const big = tooLarge("attribute", attr.name, e.cell, MAX_CELL_BYTES);
  if (big) return big;
  return escapeFormulas ? { ok: true, cell: escapeFormula(e.cell) } : e;
}

function encodePlain(attr: AttributeSpec, value: AttrValue | undefined, separator: string): Encoded {
  if (value === null || value === undefined) return { ok: true, cell: "" };
  if (Array.isArray(value)) {
    const values = value.filter((v) => v !== "");
    if (!attr.multiValued && values.length > 1) {
      return { ok: false, message: `attribute '${attr.name}' is single-valued but ${values.length} values were given` };
    }
    const cells: string[] = [];
    for (const v of values) {
      const e = encodeScalar(attr, v, separator);
      if (!e.ok) return e;
      cells.push(e.cell);
    }
    return { ok: true, cell: cells.join(separator) };
  }
  return encodeScalar(attr, value, separator);
}

function encodeScalar(attr: AttributeSpec, value: string | number | boolean, separator: string): Encoded {
  const cell = typeof value === "string" ? value : String(value);
  const big = tooLarge("attribute", attr.name, cell, MAX_VALUE_BYTES);
  if (big) return big;
  const d = decodeScalar(attr, cell);
  if (!d.ok) return { ok: false, message: `attribute '${attr.name}': the value is not of type ${attr.type}` };
  if (typeof value === "number" && !Number.isFinite(value)) return { ok: false, message: `attribute '${attr.name}': not a finite number` };
  if (attr.multiValued && (cell.includes(separator) || cell.trim() !== cell)) {
    // It would be split (or trimmed) on the way back in.
    return { ok: false, message: `attribute '${attr.name}': a value contains the multi-value separator '${separator}' or surrounding spaces` };
  }
  return { ok: true, cell };
}

/** How one file's header maps onto the declared attributes. Built per file read. */
export class ColumnMap {
  /** For each file column: the declared attribute it holds, or undefined (ignored on import). */
  readonly attributeOf: Array<AttributeSpec | undefined>;
  /** Index of each anchor attribute's column. */
  private readonly anchorColumns: number[];

  constructor(
    private readonly schema: CsvSchema,
    columns: string[],
    headerLine: number,
  ) {
    const declared = new Map(declaredColumns(schema.type).map((a) => [a.name.toLowerCase(), a]));
    const seen = new Map<string, string>();
    this.attributeOf = columns.map((c) => {
      const a = declared.get(c.toLowerCase());
      if (!a) return undefined;
      const other = seen.get(a.name);
      if (other !== undefined) {
        throw new CsvFormatError(`${schema.file}: line ${headerLine}: columns '${other}' and '${c}' both name attribute '${a.name}'`);
      }
      seen.set(a.name, c);
      return a;
    });
    this.anchorColumns = schema.type.anchor.map((name) => {
      const i = this.attributeOf.findIndex((a) => a?.name === name);
      if (i === -1) throw new CsvFormatError(`${schema.file}: line ${headerLine}: no column for anchor attribute '${name}'`);
      return i;
    });
  }

  /** The anchor of a row, when its anchor cells are readable (also for rows rejected otherwise). */
  anchorOfCells(cells: string[]): string | undefined {
    const attrs: Attributes = {};
    for (const i of this.anchorColumns) {
      const a = this.attributeOf[i]!;
      if (i >= cells.length) return undefined;
      const d = decodeCell(a, cells[i], this.schema.separator, this.schema.escapeFormulas);
      if (!d.ok) return undefined;
      attrs[a.name] = d.value;
    }
    return anchorOf(this.schema.type, attrs);
  }

  /** The object a record holds, or the problem that keeps it out. */
  decode(rec: CsvRecord): { object: ImportedObject } | { problem: ImportProblem } {
    const attrs: Attributes = {};
    let error: { code: string; message: string } | undefined;
    const { attributeOf } = this;
    for (let i = 0; i < attributeOf.length; i++) {
      const a = attributeOf[i];
      if (a === undefined) continue;
      const raw = rec.cells[i];
      if (raw === "") continue;
      const d = decodeCell(a, raw, this.schema.separator, this.schema.escapeFormulas);
      if (!d.ok) error ??= { code: d.code ?? "invalid-value", message: d.message };
      else if (d.value !== null) attrs[a.name] = d.value;
    }
    const anchor = anchorOf(this.schema.type, attrs);
    const location = `line ${rec.line}`;
    // Messages carry the reason only; the reader of an ImportProblem adds location and file.
    if (error !== undefined) return { problem: { location, anchor, code: error.code, message: error.message } };
    if (anchor === undefined) {
      return { problem: { location, code: "missing-anchor", message: `no value for anchor attribute(s) ${this.schema.type.anchor.join(", ")}` } };
    }
    return { object: { objectType: this.schema.type.name, anchor, attrs } };
  }
}
