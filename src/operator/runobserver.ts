// What happens after every engine run: metrics, a log line, an Event, and the MA's fresh engine
// status (read right away, inside the run queue, so the status write never waits for the engine).
// One observer per namespace: its metrics carry a `namespace` label, as MA names are only unique
// within a namespace.
import type { Engine } from "../engine/index.ts";
import type { ManagementAgentStatus, RunResult } from "../engine/types.ts";
import type { EventRecorder, InvolvedObject } from "./events.ts";
import type { Logger } from "./log.ts";
import type { OperatorMetrics } from "./metrics.ts";
import type { RunRequest } from "./runqueue.ts";

export interface RunObserverOptions {
  /** The namespace whose engine runs: a label of every per-MA metric. */
  namespace: string;
  metrics: OperatorMetrics;
  events: EventRecorder;
  logger: Logger;
  involved: (ma: string) => InvolvedObject | undefined;
  statusChanged: (ma: string, status: ManagementAgentStatus) => void;
  /** Every applied MA: a sync changes other MAs' pending exports, so their status is re-read too. */
  managementAgents: () => string[];
  /** An MA's last known engine status: what its status shows when the database cannot be read. */
  knownStatus?: (ma: string) => ManagementAgentStatus | undefined;
}

/** "3 adds, 1 update" — only the counts that are not zero. */
export function summarizeCounts(counts: RunResult["counts"]): string {
  const parts = Object.entries(counts)
    .filter(([k, n]) => n > 0 && k !== "unchanged")
    .map(([k, n]) => `${n} ${n === 1 ? k.replace(/s$/, "") : k}`);
  return parts.length > 0 ? parts.join(", ") : "no changes";
}

export class RunObserver {
  constructor(private readonly opts: RunObserverOptions) {}

  async finished(result: RunResult, request: RunRequest, engine: Engine): Promise<void> {
    const { metrics } = this.opts;
    const { ma, profile, status, counts } = result;
    const namespace = this.opts.namespace;
    metrics.runs.inc({ namespace, ma, profile, result: status });
    metrics.runDuration.observe(result.durationMs / 1000, { namespace, ma, profile });
    for (const [change, n] of Object.entries(counts)) {
      if (n > 0 && change !== "unchanged" && change !== "errors") metrics.objectsProcessed.inc({ namespace, ma, change }, n);
    }
    if (counts.errors > 0) metrics.errors.inc({ kind: "object" }, counts.errors);
    if (status === "failed") metrics.errors.inc({ kind: "run" });

    const summary = summarizeCounts(counts);
    const fields = { ma, profile, result: status, reason: request.reason, durationMs: result.durationMs, runId: result.runId, counts };
    if (status === "failed") this.opts.logger.warn("run failed", { ...fields, message: result.message });
    else this.opts.logger.info("run finished", fields);

    const involved = this.opts.involved(ma);
    if (involved) {
      const e = this.opts.events;
      if (status === "failed") e.record(involved, "Warning", "RunFailed", `${profile} failed: ${result.message ?? "unknown error"}`);
      else if (status === "stopped-deletion-threshold" || status === "stopped-source-empty") {
        e.record(involved, "Warning", "DeletesBlocked", `${profile}: ${result.message ?? `the deletion threshold holds back ${result.blockedDeletes ?? "some"} deletes; annotate idsync.dev/allow-deletes to release them`}`);
      } else if (status === "completed-with-errors") e.record(involved, "Warning", "RunCompletedWithErrors", `${profile}: ${summary}`);
      // Quiet runs (a delta import every 5 minutes that found nothing) are not worth an Event.
      else if (summary !== "no changes") e.record(involved, "Normal", "RunSucceeded", `${profile}: ${summary}`);
    }

    const affected = profile === "full-sync" || profile === "delta-sync" ? new Set([ma, ...this.opts.managementAgents()]) : new Set([ma]);
    for (const name of affected) {
      try {
        const s = await engine.status(name);
        metrics.pendingExports.set(s.pendingExports.adds + s.pendingExports.updates + s.pendingExports.deletes, { namespace, ma: name });
        this.opts.statusChanged(name, s);
      } catch (err) {
        this.opts.logger.warn("could not read an MA's status after a run", { ma: name, error: (err as Error).message });
        // Most likely the database failed this run too: the MA's status still says the run failed.
        const known = name === ma && status === "failed" ? this.opts.knownStatus?.(name) : undefined;
        if (known) this.opts.statusChanged(name, { ...known, lastRun: result });
      }
    }
  }
}
