// RFC 4180 record parsing, one physical line at a time, with resynchronisation after a broken quote.
//
// Why not csv-parse: with `skip_records_with_error` an unterminated quote swallows every following
// line up to the next stray quote (or EOF) and the error reports the line where parsing gave up, not
// where the record began. For an identity source that means a single typo silently drops — and the
// engine then deletes — hundreds of people. This parser remembers the physical lines of a multi-line
// record; when the record's quoting turns out to be broken it reports the record's first line and
// re-reads the lines after it as fresh records, so well-formed rows that follow are never lost.
//
// Strictness is deliberate: a quote inside an unquoted cell, or text after a closing quote, is an
// error (as in csv-parse's default). Being lenient there would let the resynchronisation above turn
// the tail of a broken multi-line cell into bogus rows.

import { formatBytes, MAX_RECORD_BYTES } from "./limits.ts";

export interface CsvRecord {
  /** Physical line (1-based) where the record starts. */
  line: number;
  cells: string[];
}

export interface CsvSyntaxProblem {
  /** Physical line (1-based) where the offending record starts. */
  line: number;
  code: "unterminated-quote" | "invalid-closing-quote" | "unexpected-quote" | "column-count";
  message: string;
  /** The cells read before the problem (all of them for "column-count"): to tell which object it was. */
  cells?: string[];
}

export interface CsvRecordSink {
  record(r: CsvRecord): void;
  problem(p: CsvSyntaxProblem): void;
}

interface PhysicalLine {
  text: string;
  no: number;
}

type Scan =
  | { kind: "done" }
  | { kind: "open"; field: string }
  | { kind: "error"; code: "invalid-closing-quote" | "unexpected-quote"; message: string };

const QUOTE = 34;
const CR = 13;

/**
 * Scans one physical line (without its "\n"; a trailing "\r" is the rest of a CRLF terminator) and
 * appends the cells it completes to `cells`. `open` is the content of a quoted cell continued from
 * the previous line. Inside quotes the line is taken verbatim, "\r" included, so CRLF inside a cell
 * survives a round trip.
 */
export function scanLine(line: string, delimiter: string, cells: string[], open: string | undefined): Scan {
  const n = line.length;
  const eol = n > 0 && line.charCodeAt(n - 1) === CR ? n - 1 : n;
  if (open === undefined && line.indexOf('"') === -1) {
    // The common case, kept cheap: no quoting at all on this line.
    const parts = (eol === n ? line : line.slice(0, eol)).split(delimiter);
    for (const p of parts) cells.push(p);
    return { kind: "done" };
  }
  let i = 0;
  let buf = open;
  for (;;) {
    if (buf === undefined) {
      if (i < eol && line.charCodeAt(i) === QUOTE) {
        buf = "";
        i++;
      } else {
        let j = line.indexOf(delimiter, i);
        if (j === -1 || j > eol) j = eol;
        const cell = line.slice(i, j);
        if (cell.indexOf('"') !== -1) {
          return { kind: "error", code: "unexpected-quote", message: `cell ${cells.length + 1}: a quote inside an unquoted cell` };
        }
        cells.push(cell);
        if (j >= eol) return { kind: "done" };
        i = j + 1;
        continue;
      }
    }
    const q = line.indexOf('"', i);
    if (q === -1) return { kind: "open", field: buf + line.slice(i) + "\n" };
    if (line.charCodeAt(q + 1) === QUOTE) {
      buf += line.slice(i, q + 1); // an escaped quote: keep one
      i = q + 2;
      continue;
    }
    cells.push(buf + line.slice(i, q));
    buf = undefined;
    i = q + 1;
    if (i >= eol) return { kind: "done" };
    if (line.slice(i, i + delimiter.length) !== delimiter) {
      return { kind: "error", code: "invalid-closing-quote", message: `cell ${cells.length}: text after the closing quote` };
    }
    i += delimiter.length;
  }
}

interface Pending {
  start: number;
  lines: PhysicalLine[];
  cells: string[];
  field: string;
  /** Characters of the lines so far. */
  size: number;
}

/** A quoted cell still open after this many characters is a broken quote (limits.ts). */
export const MAX_RECORD_CHARS = MAX_RECORD_BYTES;

/**
 * Turns physical lines into records. Feed lines in order with `push`, then call `end`. Until
 * `columns` is set (after the header) any cell count is accepted. Blank lines between records are
 * skipped, as every spreadsheet does.
 */
export class CsvRecordParser {
  columns: number | undefined;
  private pending: Pending | undefined;
  /** Lines to read again after a broken record; the top of the stack is the next line. */
  private readonly again: PhysicalLine[] = [];

  constructor(
    private readonly delimiter: string,
    private readonly sink: CsvRecordSink,
  ) {}

  push(text: string, no: number): void {
    this.take({ text, no });
    this.drain();
  }

  end(): void {
    while (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      this.sink.problem({
        line: p.start,
        code: "unterminated-quote",
        message: `a quoted cell opened on line ${p.start} is never closed`,
        cells: p.cells,
      });
      this.reread(p.lines);
      this.drain();
    }
  }

  private drain(): void {
    while (this.again.length > 0) this.take(this.again.pop()!);
  }

  private take(l: PhysicalLine): void {
    const p = this.pending;
    if (p) {
      p.lines.push(l);
      p.size += l.text.length + 1;
      if (p.size > MAX_RECORD_CHARS) {
        // Memory stays bounded: report the record as broken, read the lines after its first again.
        this.pending = undefined;
        this.sink.problem({
          line: p.start,
          code: "unterminated-quote",
          message: `a quoted cell opened on line ${p.start} is still open ${p.lines.length} lines and ${formatBytes(p.size)} later, more than any row idsync reads`,
          cells: p.cells,
        });
        this.reread(p.lines);
        return;
      }
      this.settle(scanLine(l.text, this.delimiter, p.cells, p.field), p.start, p.cells, p.lines);
      return;
    }
    if (l.text === "" || l.text === "\r") return;
    const cells: string[] = [];
    this.settle(scanLine(l.text, this.delimiter, cells, undefined), l.no, cells, [l]);
  }

  private settle(r: Scan, start: number, cells: string[], lines: PhysicalLine[]): void {
    if (r.kind === "open") {
      this.pending = this.pending ?? { start, lines, cells, field: r.field, size: lines.reduce((n, l) => n + l.text.length + 1, 0) };
      this.pending.field = r.field;
      return;
    }
    this.pending = undefined;
    if (r.kind === "error") {
      if (lines.length > 1) {
        const last = lines[lines.length - 1].no;
        this.sink.problem({
          line: start,
          code: "unterminated-quote",
          message: `a quoted cell opened on line ${start} is not closed properly (the quoting breaks on line ${last})`,
          cells,
        });
        // The record most likely ends on its first line and the following lines are rows of their own.
        this.reread(lines);
      } else {
        this.sink.problem({ line: start, code: r.code, message: r.message, cells });
      }
      return;
    }
    if (this.columns !== undefined && cells.length !== this.columns) {
      // Quoting balanced: the record boundaries are right, only the row is wrong. Skip all of it.
      this.sink.problem({
        line: start,
        code: "column-count",
        message: `${cells.length} cells where the header has ${this.columns}`,
        cells,
      });
      return;
    }
    this.sink.record({ line: start, cells });
  }

  private reread(lines: PhysicalLine[]): void {
    for (let k = lines.length - 1; k >= 1; k--) this.again.push(lines[k]);
  }
}
