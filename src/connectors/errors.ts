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
