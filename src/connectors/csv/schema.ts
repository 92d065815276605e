// The meeting point of a CSV table and the declared schema: which column is which attribute, how a
// cell becomes a typed value (import) and how a value becomes a cell (export). Both directions live
// here so that whatever the connector writes, it reads back unchanged.
import type { AttributeSpec, ObjectTypeSpec } from "../../config/model.ts";
import { anchorOf, type AttrValue, type Attributes, type ImportedObject, type ImportProblem } from "../types.ts";
import type { CsvRecord } from "./parse.ts";
import { CsvFormatError } from "./read.ts";

export interface CsvSchema {
  file: string;
  type: ObjectTypeSpec;
  separator: string;
}

/** Declared attributes in file order: anchor attributes first, then the others as declared. */
export function declaredColumns(type: ObjectTypeSpec): AttributeSpec[] {
  const byName = new Map(type.attributes.map((a) => [a.name, a]));
  const anchors = type.anchor.map((n) => byName.get(n) ?? { name: n });
  return [...anchors, ...type.attributes.filter((a) => !type.anchor.includes(a.name))];
}

export type Decoded = { ok: true; value: AttrValue } | { ok: false; message: string };

/** A cell's value: "" is absent (null); multi-valued cells split on the separator. */
export function decodeCell(attr: AttributeSpec, raw: string, separator: string): Decoded {
  if (raw === "") return { ok: true, value: null };
  // PostgreSQL stores no NUL in text or jsonb: one such cell must fail its row, not the import.
  if (raw.includes("\u0000")) return { ok: false, message: `column '${attr.name}' holds a NUL character (U+0000), which no attribute value may hold` };
  if (attr.multiValued) {
    const values: string[] = [];
    for (const part of raw.split(separator)) {
      const v = part.trim();
      if (v === "") continue;
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

export type Encoded = { ok: true; cell: string } | { ok: false; message: string };

/** The cell for a value; refuses what would not read back as the same value. */
export function encodeCell(attr: AttributeSpec, value: AttrValue | undefined, separator: string): Encoded {
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
      const d = decodeCell(a, cells[i], this.schema.separator);
      if (!d.ok) return undefined;
      attrs[a.name] = d.value;
    }
    return anchorOf(this.schema.type, attrs);
  }

  /** The object a record holds, or the problem that keeps it out. */
  decode(rec: CsvRecord): { object: ImportedObject } | { problem: ImportProblem } {
    const attrs: Attributes = {};
    let error: string | undefined;
    const { attributeOf } = this;
    for (let i = 0; i < attributeOf.length; i++) {
      const a = attributeOf[i];
      if (a === undefined) continue;
      const raw = rec.cells[i];
      if (raw === "") continue;
      const d = decodeCell(a, raw, this.schema.separator);
      if (!d.ok) error ??= d.message;
      else if (d.value !== null) attrs[a.name] = d.value;
    }
    const anchor = anchorOf(this.schema.type, attrs);
    const location = `line ${rec.line}`;
    // Messages carry the reason only; the reader of an ImportProblem adds location and file.
    if (error !== undefined) return { problem: { location, anchor, code: "invalid-value", message: error } };
    if (anchor === undefined) {
      return { problem: { location, code: "missing-anchor", message: `no value for anchor attribute(s) ${this.schema.type.anchor.join(", ")}` } };
    }
    return { object: { objectType: this.schema.type.name, anchor, attrs } };
  }
}
