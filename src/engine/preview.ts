// Previewing a configuration: what the engine would do under it, with connectors never called.
// Meant to run on a rolled-back view of the database (Database.simulate): it writes like a real
// apply and full sync — that is the point, the same code decides — and the caller throws it away.
import type { ConfigSet } from "../config/model.ts";
import type { Database } from "../store/db.ts";
import { checkDeletionThreshold, type ThresholdCheck } from "./export.ts";
import { openEngine } from "./index.ts";
import { compileConfig } from "./rules.ts";
import type { ApplyResult, RunResult } from "./types.ts";

export type { ThresholdCheck };

export interface PreviewOptions {
  now?: () => Date;
  batchSize?: number;
  onProgress?: (done: number, total: number | undefined, what: string) => void;
}

export interface Preview {
  /** MAs the proposed configuration drops; their clean-up ran first, under the old configuration. */
  removed: string[];
  applied: ApplyResult;
  /** Full syncs, in the order the operator runs them after an apply (projecting MAs first). */
  runs: RunResult[];
}

/**
 * Applies `proposed` to `view` and runs a full sync of every MA the change reaches (the runs the
 * operator would start after the apply); no import, no export. MAs that are removed are cleaned up
 * first, as the operator's finalizer does. `view` must be a Database.simulate view.
 */
export async function previewFullSync(view: Database, proposed: ConfigSet, opts: PreviewOptions = {}): Promise<Preview> {
  const engine = await openEngine({
    database: view,
    now: opts.now,
    batchSize: opts.batchSize,
    // A preview never talks to a connected system; a secret request would mean it tried to.
    secrets: async (name) => {
      throw new Error(`a preview does not connect to any system (asked for secret ${name})`);
    },
  });
  const keep = new Set(proposed.managementAgents.map((m) => m.metadata.name));
  const removed = (engine.config()?.managementAgents ?? []).map((m) => m.metadata.name).filter((n) => !keep.has(n)).sort();
  for (const ma of removed) await engine.removeManagementAgent(ma);
  const applied = await engine.apply(proposed);
  const projecting = new Set(proposed.syncRules.filter((r) => r.spec.direction === "inbound" && r.spec.projection).map((r) => r.spec.managementAgent));
  const order = [...applied.needsFullSync].sort((a, b) => Number(projecting.has(b)) - Number(projecting.has(a)) || a.localeCompare(b));
  const runs: RunResult[] = [];
  for (const ma of order) runs.push(await engine.run(ma, "full-sync", { onProgress: opts.onProgress }));
  return { removed, applied, runs };
}

/** The deletion threshold of each MA of `config` against the pending exports in `db` now. */
export async function deletionThresholds(db: Database, config: ConfigSet): Promise<Map<string, ThresholdCheck>> {
  const compiled = compileConfig(config);
  const ctx = { db, config: compiled, now: () => new Date(), batchSize: 1, options: {} };
  const out = new Map<string, ThresholdCheck>();
  for (const ma of compiled.mas.keys()) out.set(ma, await checkDeletionThreshold(ctx, ma));
  return out;
}
