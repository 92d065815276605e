// The CSV connector: one file holds the objects of one object type, one row each. Import streams
// the file in batches; a delta import is a full snapshot unless the file is byte-for-byte unchanged;
// export rewrites the whole file atomically, rows sorted by anchor.
//
// Where the file may be: with a path policy (ctx.paths: the CLI's configuration folder, the
// operator's CSV roots) the path must resolve inside its folder, and before every read or write
// the real path (symbolic links followed) must still lie inside it; the connector then opens that
// real path. Limits on rows, records and values: limits.ts.
import { resolve } from "node:path";
import type { ManagementAgent } from "../../config/model.ts";
import { resolveDataPath } from "../../config/paths.ts";
import { PathOutsideRootError, realPathWithin } from "../files.ts";
import type {
  Connector,
  ConnectorContext,
  DeltaImport,
  ExportOperation,
  ExportResult,
  ImportBatch,
  ImportChange,
  ImportedObject,
  ImportProblem,
} from "../types.ts";
import { CsvFileReader, CsvFormatError, hashFile } from "./read.ts";
import { AnchorHashSet, anchorHash } from "./anchor-hashes.ts";
import { ColumnMap } from "./schema.ts";
import { DEFAULT_MAX_OBJECTS } from "./limits.ts";
import { applyExports, type CsvTarget } from "./write.ts";

export { CsvFormatError } from "./read.ts";

const BATCH = 1000;

export function createCsvConnector(ma: ManagementAgent, ctx: ConnectorContext): Connector {
  const target = settingsOf(ma, ctx);
  // Exports are read-modify-write of one file: run them one after the other.
  let exporting: Promise<unknown> = Promise.resolve();

  return {
    referenceBy: "anchor",
    // Every export call rewrites the whole file: one call for the whole run keeps it linear.
    exportBatchSize: Number.POSITIVE_INFINITY,
    // Exports rewrite the file; a delta that skipped an unchanged-looking file could miss a refuted export.
    snapshotAfterExport: true,
    fullImport: () => fullImport(target, ctx.signal),
    async deltaImport(watermark: string | undefined): Promise<DeltaImport> {
      const t = await located(target);
      const now = await hashFile(t.file);
      if (watermark !== undefined && sha256Of(watermark) === now.sha256) {
        // Unchanged content. Not an empty snapshot: that would mean "every object was deleted".
        return { mode: "changes", batches: noBatches(), watermark: async () => formatWatermark(now.sha256, now.mtime) };
      }
      const reader = new CsvFileReader(t.file, t.delimiter, ctx.signal);
      return {
        mode: "snapshot",
        batches: upserts(importBatches(t, reader, ctx.signal)),
        // The hash of the bytes actually imported, not of what the file holds by now.
        watermark: async () => {
          const sha = reader.digest();
          return sha === undefined ? undefined : formatWatermark(sha, reader.mtime);
        },
      };
    },
    export(operations: ExportOperation[]): Promise<ExportResult[]> {
      const run = exporting.then(async () => applyExports(await located(target), operations));
      exporting = run.catch(() => undefined);
      return run;
    },
    async close(): Promise<void> {
      await exporting;
    },
  };
}

function settingsOf(ma: ManagementAgent, ctx: ConnectorContext): CsvTarget {
  const where = `ManagementAgent ${ma.metadata.name}: spec.connector.csv`;
  const csv = ma.spec.connector.csv;
  if (!csv || typeof csv.path !== "string" || csv.path === "") throw new Error(`${where}.path is required`);
  const delimiter = csv.delimiter ?? ",";
  if (delimiter === "" || /["\r\n]/.test(delimiter)) throw new Error(`${where}.delimiter must be non-empty and hold no quote or line break`);
  const separator = csv.multiValueSeparator ?? ";";
  if (separator === "" || /[\r\n]/.test(separator)) throw new Error(`${where}.multiValueSeparator must be non-empty and hold no line break`);
  const types = ma.spec.objectTypes ?? [];
  const type = csv.objectType === undefined ? types[0] : types.find((t) => t.name === csv.objectType);
  if (!type) {
    throw new Error(csv.objectType === undefined ? `ManagementAgent ${ma.metadata.name}: no object type declared` : `${where}.objectType: no object type '${csv.objectType}'`);
  }
  if (type.anchor.length === 0) throw new Error(`ManagementAgent ${ma.metadata.name}: object type '${type.name}' declares no anchor`);
  const maxObjects = csv.maxObjects ?? DEFAULT_MAX_OBJECTS;
  if (!Number.isSafeInteger(maxObjects) || maxObjects < 1) throw new Error(`${where}.maxObjects must be a whole number of at least 1`);
  const common = { delimiter, separator, type, escapeFormulas: csv.escapeFormulas === true, maxObjects };
  if (!ctx.paths) return { ...common, file: resolve(ctx.baseDir, csv.path) };
  // The same check as validation's, in case the configuration reached the engine some other way.
  const at = resolveDataPath(ctx.paths, csv.path, { baseDir: ctx.baseDir, configRoot: ma.source?.root ?? ctx.baseDir });
  if (!at.ok) throw new PathOutsideRootError(`${where}.path: ${at.message}`);
  return { ...common, file: at.file, root: at.root };
}

/** The target with its file's real path, checked to lie inside its root (symbolic links followed). */
async function located(target: CsvTarget): Promise<CsvTarget> {
  return target.root === undefined ? target : { ...target, file: await realPathWithin(target.file, target.root) };
}

async function* fullImport(target: CsvTarget, signal?: AbortSignal): AsyncGenerator<ImportBatch<ImportedObject>> {
  const t = await located(target);
  yield* importBatches(t, new CsvFileReader(t.file, t.delimiter, signal), signal);
}

/**
 * Hashes of anchors found on more than one well-formed row (or colliding with another's): a first
 * pass over the file, anchors only. Which of two rows is "the" object is unknowable, so neither may
 * be staged, and the first one would otherwise be on its way before the second is read.
 */
async function suspectAnchors(target: CsvTarget, signal?: AbortSignal): Promise<Set<number>> {
  const reader = new CsvFileReader(target.file, target.delimiter, signal);
  const seen = new AnchorHashSet();
  const suspects = new Set<number>();
  let map: ColumnMap | undefined;
  let rows = 0;
  for await (const chunk of reader.chunks()) {
    map ??= new ColumnMap(target, reader.head!.columns, reader.head!.line);
    for (const rec of chunk) {
      // Counted before anything is staged: a file this big fails the run, and nothing changes.
      if (++rows > target.maxObjects) {
        throw new CsvFormatError(
          `${target.file}: more than ${target.maxObjects} rows, the most this management agent reads from one file (raise csv.maxObjects if the file is meant to be this big)`,
        );
      }
      if ("code" in rec) continue;
      const anchor = map.anchorOfCells(rec.cells);
      if (anchor === undefined) continue;
      const h = anchorHash(anchor);
      if (!seen.add(h)) suspects.add(h);
    }
  }
  return suspects;
}

/** Every well-formed row as an object, in batches of about BATCH; rejected rows as problems. */
async function* importBatches(target: CsvTarget, reader: CsvFileReader, signal?: AbortSignal): AsyncGenerator<ImportBatch<ImportedObject>> {
  const suspects = await suspectAnchors(target, signal);
  // Rows of suspect anchors wait for the end of the file, then are decided by the anchor itself.
  const held = new Map<string, Array<{ object: ImportedObject; line: number }>>();
  let map: ColumnMap | undefined;
  let items: ImportedObject[] = [];
  let problems: ImportProblem[] = [];
  const reject = (p: ImportProblem) => problems.push({ ...p, message: `${p.message} (${target.file})` });
  for await (const chunk of reader.chunks()) {
    map ??= new ColumnMap(target, reader.head!.columns, reader.head!.line);
    for (const rec of chunk) {
      if ("code" in rec) {
        // The anchor, where readable, lets the engine tell which object the broken row was about.
        const anchor = rec.cells ? map.anchorOfCells(rec.cells) : undefined;
        reject({ location: `line ${rec.line}`, anchor, code: rec.code, message: rec.message });
        continue;
      }
      const d = map.decode(rec);
      if ("problem" in d) {
        reject(d.problem);
        continue;
      }
      if (suspects.size > 0 && suspects.has(anchorHash(d.object.anchor))) {
        const rows = held.get(d.object.anchor) ?? [];
        rows.push({ object: d.object, line: rec.line });
        held.set(d.object.anchor, rows);
        continue;
      }
      items.push(d.object);
      if (items.length >= BATCH) {
        yield problems.length > 0 ? { items, problems } : { items };
        items = [];
        problems = [];
      }
    }
  }
  for (const [anchor, rows] of held) {
    if (rows.length === 1) {
      items.push(rows[0].object); // a hash collision, not a duplicate
      continue;
    }
    // Ambiguous: every row is held, and the object stays as it was until the source is fixed.
    for (const r of rows) {
      const others = rows.filter((o) => o.line !== r.line).map((o) => o.line).join(", ");
      reject({
        location: `line ${r.line}`,
        anchor,
        code: "duplicate-anchor",
        message: `anchor '${anchor}' is also on line ${others}: ambiguous, no row of it is imported and the object stays as it was until the file is fixed`,
      });
    }
  }
  // A header-only file still has its header checked (a missing anchor column is a configuration error).
  if (!map && reader.head) new ColumnMap(target, reader.head.columns, reader.head.line);
  if (items.length > 0 || problems.length > 0) yield problems.length > 0 ? { items, problems } : { items };
}

async function* upserts(batches: AsyncIterable<ImportBatch<ImportedObject>>): AsyncGenerator<ImportBatch<ImportChange>> {
  for await (const b of batches) {
    const items = b.items.map((object): ImportChange => ({ kind: "upsert", object }));
    yield b.problems ? { items, problems: b.problems } : { items };
  }
}

async function* noBatches(): AsyncGenerator<ImportBatch<ImportChange>> {}

/** "sha256:<hex> mtime:<ISO>": the hash decides, the mtime is for people reading the status. */
function formatWatermark(sha256: string, mtime: Date | undefined): string {
  return `sha256:${sha256}` + (mtime ? ` mtime:${mtime.toISOString()}` : "");
}

function sha256Of(watermark: string): string | undefined {
  return /(?:^|\s)sha256:([0-9a-f]{64})(?:\s|$)/.exec(watermark)?.[1];
}
