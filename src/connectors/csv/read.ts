// Reads a CSV file as a stream of records: bytes → UTF-8 text → physical lines → records, hashing
// exactly the bytes it parses (so a watermark always describes the content that was imported).
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { SourceMissingError } from "../errors.ts";
import { CsvRecordParser, type CsvRecord, type CsvSyntaxProblem } from "./parse.ts";
import { formatBytes, MAX_RECORD_BYTES } from "./limits.ts";

/** The file's content cannot be read as a CSV table at all (as opposed to one bad row). */
export class CsvFormatError extends Error {
  override name = "CsvFormatError";
}

export interface CsvHead {
  columns: string[];
  /** The header line's number (1 unless blank lines precede it). */
  line: number;
  bom: boolean;
  crlf: boolean;
}

/** Records and problems in file order (a problem has a `code`). */
export type CsvChunk = Array<CsvRecord | CsvSyntaxProblem>;

const CHUNK_BYTES = 1 << 20;
const EMPTY_SHA256 = createHash("sha256").digest("hex");

export class CsvFileReader {
  /** Set once the header was read; stays undefined for a missing or empty file. */
  head: CsvHead | undefined;
  exists = false;
  mtime: Date | undefined;
  private sha256: string | undefined;

  constructor(
    readonly file: string,
    private readonly delimiter: string,
    private readonly signal?: AbortSignal,
  ) {}

  /** The content's sha256 (hex); available once `chunks()` ran to the end. A missing file hashes as empty. */
  digest(): string | undefined {
    return this.sha256;
  }

  /** One chunk per ~1 MiB read. A missing file throws SourceMissingError: it is not an empty file. */
  async *chunks(): AsyncGenerator<CsvChunk> {
    let fh: FileHandle;
    try {
      fh = await open(this.file, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        this.sha256 = EMPTY_SHA256;
        throw new SourceMissingError(`${this.file}: the file does not exist`);
      }
      throw new Error(`${this.file}: ${(e as Error).message}`);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`${this.file}: not a regular file`);
      this.exists = true;
      this.mtime = st.mtime;
      yield* this.parse(fh);
    } finally {
      await fh.close();
    }
  }

  private async *parse(fh: FileHandle): AsyncGenerator<CsvChunk> {
    const hash = createHash("sha256");
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    let out: CsvChunk = [];
    let lineNo = 0;
    let first = true;
    let carry: Buffer | undefined;
    let bom = false;
    let crlf = false;
    const parser = new CsvRecordParser(this.delimiter, {
      record: (r) => {
        if (this.head) {
          out.push(r);
          return;
        }
        this.head = { columns: r.cells.map((c) => c.trim()), line: r.line, bom, crlf };
        parser.columns = r.cells.length;
      },
      problem: (p) => {
        if (!this.head) throw new CsvFormatError(`${this.file}: line ${p.line}: the header row is malformed: ${p.message}`);
        out.push(p);
      },
    });
    const tooLong = (line: number): never => {
      throw new CsvFormatError(`${this.file}: line ${line} is longer than ${formatBytes(MAX_RECORD_BYTES)}, more than any row idsync reads`);
    };
    const feed = (bytes: Buffer) => {
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        throw new CsvFormatError(`${this.file}: line ${lineNo + badUtf8Line(bytes)}: not valid UTF-8 (the file must be UTF-8 encoded)`);
      }
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) {
          bom = true;
          text = text.slice(1);
        }
        const nl = text.indexOf("\n");
        crlf = nl > 0 && text.charCodeAt(nl - 1) === 13;
      }
      for (const line of text.split("\n")) parser.push(line, ++lineNo);
    };
    for (;;) {
      this.signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(CHUNK_BYTES);
      const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      // Cut at the last "\n": a UTF-8 sequence never contains that byte, so no character is split.
      // Only the line the carry begins can be long (a chunk is 1 MiB). No object on a line that
      // long can be told apart from the others: stop the run, delete nothing.
      const firstEnd = carry ? data.indexOf(10, carry.length) : data.indexOf(10);
      if ((firstEnd === -1 ? data.length : firstEnd) > MAX_RECORD_BYTES) tooLong(lineNo + 1);
      const cut = data.lastIndexOf(10);
      if (cut === -1) {
        carry = data;
        continue;
      }
      feed(data.subarray(0, cut));
      carry = data.subarray(cut + 1);
      if (out.length > 0) {
        yield out;
        out = [];
      }
    }
    if (carry && carry.length > 0) {
      if (carry.length > MAX_RECORD_BYTES) tooLong(lineNo + 1);
      feed(carry);
    }
    parser.end();
    this.sha256 = hash.digest("hex");
    if (out.length > 0) yield out;
  }
}

/** Which line (1-based, within `bytes`) holds the first invalid UTF-8 sequence. Error path only. */
function badUtf8Line(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(10, start);
    const end = nl === -1 ? bytes.length : nl;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    if (nl === -1) return line;
    line++;
    start = nl + 1;
  }
}

/** sha256 (hex) and mtime of the file's current content; a missing file hashes as empty. */
export async function hashFile(file: string): Promise<{ sha256: string; mtime?: Date }> {
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { sha256: EMPTY_SHA256 };
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
    return { sha256: hash.digest("hex"), mtime: st.mtime };
  } finally {
    await fh.close();
  }
}
