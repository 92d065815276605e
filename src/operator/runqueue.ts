// The run queue: the one worker through which every call to one engine goes. Engine calls are not
// re-entrant (a run holds the connector space of its MA and the applied configuration), so apply,
// runs, status reads and clean-ups are executed one after the other, in submission order.
//
// One queue per namespace, not one for the operator: each namespace has an engine of its own (its
// own schema or embedded database, its own run locks), so nothing orders one namespace's calls
// with another's. A shared queue would make every namespace's apply, status read and finalizer
// clean-up wait behind any other namespace's hour-long import; with a queue each, a namespace only
// ever waits for itself. What runs at once across namespaces is bounded by a Gate (gate.ts) around
// the runs themselves — the heavy part — so parallelism stays within what the pod's cores and the
// database's connections can take.
//
// Run requests are coalesced: asking for "full-sync of hr" while one is already waiting (not yet
// started) joins that request instead of queueing a second identical run.
import type { Engine } from "../engine/index.ts";
import { emptyCounts, type RunProfile, type RunResult } from "../engine/types.ts";
import { findDatabaseUnavailable } from "../store/pgconfig.ts";
import type { ScheduleEntry } from "../config/model.ts";
import { GateClosedError, type Gate } from "./gate.ts";
import { silentLogger, type Logger } from "./log.ts";

/** A profile, a per-MA "cycle" (import, sync, export), or an export only when something is pending. */
export type RequestedProfile = ScheduleEntry["profile"] | "export-if-pending";

export interface RunRequest {
  ma: string;
  profile: RequestedProfile;
  /** Why: "schedule every 5m", "configuration changed", "annotation idsync.dev/run", ... */
  reason: string;
  allowDeletes?: boolean;
}

interface Task {
  label: string;
  ma?: string;
  coalesceKey?: string;
  run: (engine: Engine) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  promise: Promise<unknown>;
}

export interface RunQueueOptions {
  /** The engine, or how to get it: opened at the first task (and again after a failed open). */
  engine: Engine | (() => Promise<Engine>);
  /** Shared by the queues of all namespaces: how many runs may execute at once. */
  gate?: Gate;
  logger?: Logger;
  /** Called after every engine run (each step of a cycle), before the next task starts. */
  onRunFinished?: (result: RunResult, request: RunRequest, engine: Engine) => void | Promise<void>;
  /** Whether an MA is in staging mode (export-if-pending and cycles skip its exports). */
  isStaging?: (ma: string) => boolean;
}

export class StoppedError extends Error {
  constructor() {
    super("the run queue is stopped");
  }
}

export class RunQueue {
  private readonly tasks: Task[] = [];
  private current: Task | undefined;
  private draining: Promise<void> | undefined;
  private running = false;
  private stopped = false;
  /** Aborted on stop(): handed to the engine so a run can stop at its next batch boundary. */
  private readonly abort = new AbortController();
  private readonly log: Logger;

  constructor(private readonly opts: RunQueueOptions) {
    this.log = opts.logger ?? silentLogger;
  }

  /** What is waiting or running for an MA (status: Reconciling). */
  activity(ma: string): { running?: string; queued: string[] } {
    return {
      running: this.current?.ma === ma ? this.current.label : undefined,
      queued: this.tasks.filter((t) => t.ma === ma && t.coalesceKey).map((t) => t.label),
    };
  }

  get length(): number {
    return this.tasks.length + (this.current ? 1 : 0);
  }

  /** Runs fn with the engine after everything submitted before it. */
  submit<T>(label: string, fn: (engine: Engine) => Promise<T>, ma?: string): Promise<T> {
    return this.enqueue({ label, ma, run: fn }) as Promise<T>;
  }

  /** Queues a run (or joins an identical one that has not started yet); resolves with its results. */
  requestRun(req: RunRequest): Promise<RunResult[]> {
    const coalesceKey = JSON.stringify([req.ma, req.profile, !!req.allowDeletes]);
    const waiting = this.tasks.find((t) => t.coalesceKey === coalesceKey);
    if (waiting) return waiting.promise as Promise<RunResult[]>;
    return this.enqueue({ label: req.profile, ma: req.ma, coalesceKey, run: (engine) => this.execute(engine, req) }) as Promise<RunResult[]>;
  }

  /** Drops the waiting (not started) tasks of an MA: it is being deleted. */
  cancel(ma: string): void {
    for (let i = this.tasks.length - 1; i >= 0; i--) {
      const t = this.tasks[i];
      if (t.ma === ma && t.coalesceKey) {
        this.tasks.splice(i, 1);
        t.resolve([]);
      }
    }
  }

  /**
   * Stops taking work: waiting tasks are rejected with StoppedError, the run in flight is signalled
   * (RunOptions.signal: an engine that honours it stops at the next batch boundary; runs commit batch
   * by batch, so a run cut short loses nothing); resolves when the task in flight has returned.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const t of this.tasks.splice(0)) t.reject(new StoppedError());
    await this.draining;
  }

  private enqueue(t: Omit<Task, "resolve" | "reject" | "promise">): Promise<unknown> {
    if (this.stopped) {
      const refused = Promise.reject(new StoppedError());
      refused.catch(() => undefined); // callers that do not await must not crash the process
      return refused;
    }
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // callers that do not await must not crash the process
    this.tasks.push({ ...t, resolve, reject, promise });
    if (!this.running) {
      this.running = true;
      this.draining = this.drain();
    }
    return promise;
  }

  private async drain(): Promise<void> {
    // `running` is cleared in the same synchronous step that finds the queue empty, so a task
    // enqueued by a continuation of the last one always starts a new drain.
    for (let task = this.tasks.shift(); task; task = this.stopped ? undefined : this.tasks.shift()) {
      this.current = task;
      try {
        const engine = typeof this.opts.engine === "function" ? await this.opts.engine() : this.opts.engine;
        task.resolve(await task.run(engine));
      } catch (e) {
        this.log.warn("engine task failed", { task: task.label, ma: task.ma, error: (e as Error).message });
        task.reject(e);
      } finally {
        this.current = undefined;
      }
    }
    this.running = false;
  }

  private async finished(result: RunResult, req: RunRequest, engine: Engine): Promise<RunResult> {
    try {
      await this.opts.onRunFinished?.(result, req, engine);
    } catch (e) {
      this.log.error("run observer failed", { error: (e as Error).message });
    }
    return result;
  }

  private async execute(engine: Engine, req: RunRequest): Promise<RunResult[]> {
    const staging = this.opts.isStaging?.(req.ma) ?? false;
    const run = async (profile: RunProfile) => {
      const signal = this.abort.signal;
      let startedAt = new Date();
      const execute = () => {
        startedAt = new Date();
        return engine.run(req.ma, profile, { allowDeletes: req.allowDeletes, signal });
      };
      try {
        const result = this.opts.gate ? await this.opts.gate.with(execute, signal).catch(stoppedWaiting) : await execute();
        return await this.finished(result, req, engine);
      } catch (e) {
        // The engine records a failed run and returns it; it throws when the database is what failed
        // and it could not. Reported like any failed run (log, metrics, Event, status), then the
        // request fails; the operator keeps serving and the next request tries again.
        if (findDatabaseUnavailable(e)) await this.finished(unrecordedFailure(req.ma, profile, startedAt, e), req, engine);
        throw e;
      }
    };
    const hasPendingExports = async () => {
      const s = await engine.status(req.ma);
      return s.pendingExports.adds + s.pendingExports.updates + s.pendingExports.deletes > 0;
    };
    switch (req.profile) {
      case "export-if-pending":
        return !staging && (await hasPendingExports()) ? [await run("export")] : [];
      case "cycle": {
        const results: RunResult[] = [];
        const imported = (await engine.status(req.ma)).lastRun !== undefined;
        results.push(await run(imported ? "delta-import" : "full-import"));
        results.push(await run("delta-sync"));
        if (!staging && (await hasPendingExports())) results.push(await run("export"));
        return results;
      }
      default:
        return [await run(req.profile)];
    }
  }
}

/** A queue stopped while its run waited for a slot: the run never started. */
function stoppedWaiting(e: unknown): never {
  throw e instanceof GateClosedError ? new StoppedError() : e;
}

/** A failed run the database could not record (it has no run id). */
function unrecordedFailure(ma: string, profile: RunProfile, startedAt: Date, e: unknown): RunResult {
  const finishedAt = new Date();
  return {
    runId: "",
    ma,
    profile,
    status: "failed",
    counts: emptyCounts(),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    message: (e as Error).message,
    errors: [],
  };
}
