// Bounds on what the CSV connector reads and writes, so that a hostile or broken file fails one
// object (or, when nothing about it can be trusted, the run) with a clear message instead of
// exhausting memory or flowing a 10 MB "name" into every target. Documented in README.md ("Limits").
export { formatBytes } from "../../config/limits.ts";

/** One attribute value (each value of a multi-valued attribute): at most 64 KiB of UTF-8. */
export const MAX_VALUE_BYTES = 64 * 1024;

/**
 * One cell (a multi-valued attribute's values together, e.g. a big group's members): at most 8 MiB
 * of UTF-8, so that a row idsync writes is always a row it reads back (MAX_RECORD_BYTES).
 */
export const MAX_CELL_BYTES = 8 * 1024 * 1024;

/**
 * One record: a physical line of at most 16 MiB, and a quoted cell spanning lines of at most 16 Mi
 * characters. A longer line fails the run (no object on it can be told apart); a quoted cell that
 * is still open after that much is a broken quote, reported on its first line.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Rows one file may hold unless the MA's csv.maxObjects says otherwise; more fails the run. */
export const DEFAULT_MAX_OBJECTS = 1_000_000;

/** UTF-8 size of `s`, cheaply when it is clearly below `limit`. */
export function exceeds(s: string, limit: number): number | undefined {
  if (s.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(s, "utf8");
  return bytes > limit ? bytes : undefined;
}

