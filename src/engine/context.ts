import type { Database } from "../store/db.ts";
import type { CompiledConfig } from "./rules.ts";
import type { RunOptions } from "./types.ts";

/** What every run step needs: the database, the compiled configuration and a clock. */
export interface EngineContext {
  db: Database;
  config: CompiledConfig;
  now: () => Date;
  /** Objects per batch (and per transaction). */
  batchSize: number;
  options: RunOptions;
  /** True when the run's locks may have been lost (their connection dropped): stop at once. */
  lockLost?: () => boolean;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Stops a run between two batches when its signal fired (operator shutdown, lost leadership).
 * Every batch is its own transaction and the sync state is level-based, so the next run resumes.
 */
export function checkCancelled(ctx: EngineContext): void {
  if (ctx.options.signal?.aborted) throw new Error("run cancelled between batches; the next run resumes where it stopped");
  // Another process may hold the locks by now: going on could interleave with its run.
  if (ctx.lockLost?.()) throw new Error("the connection holding this run's locks was lost; stopped between batches, the next run resumes where it stopped");
}
