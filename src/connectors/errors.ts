// Errors shared by connectors and understood by the engine.
import type { ExportResult } from "./types.ts";

/**
 * The connected system cannot be reached (connection refused, closed mid-batch, bind failed, timed
 * out). Thrown by fullImport / deltaImport / export instead of per-object results: the engine ends
 * the run with this error and keeps every operation without a result pending for the next run.
 * `partialResults` holds the results of the operations of the batch that did complete (successes
 * and per-object failures) — the engine must record them, or a completed add would be sent twice.
 * Messages never contain credentials.
 */
export class ConnectorUnavailableError extends Error {
  readonly partialResults: ExportResult[];

  constructor(message: string, options: { partialResults?: ExportResult[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ConnectorUnavailableError";
    this.partialResults = options.partialResults ?? [];
  }
}

/**
 * The source itself is not there (a CSV file that does not exist). Not an empty source: reading it
 * as one would mark every object it held as deleted. The engine fails the import, unless nothing
 * was ever read from or written to it (a target file the first export has yet to create).
 */
export class SourceMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SourceMissingError";
  }
}
