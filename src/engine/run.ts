// Run history: every run profile writes one row with its per-step counts and its per-object errors.
import type { Database } from "../store/db.ts";
import { DatabaseUnavailableError } from "../store/pgconfig.ts";
import { emptyCounts, type ObjectError, type RunCounts, type RunProfile, type RunResult, type RunStatus } from "./types.ts";

/** How long a failed run waits to record its failure before it gives up and reports the failure. */
const RECORD_FAILURE_WITHIN_MS = 10_000;

/** Errors kept in memory for the result; all of them are written to run_error. */
const ERRORS_IN_RESULT = 200;

export class RunRecorder {
  readonly counts: RunCounts = emptyCounts();
  readonly errors: ObjectError[] = [];
  private errorTotal = 0;
  private unwritten: ObjectError[] = [];
  blockedDeletes = 0;
  message?: string;
  status?: RunStatus;
  private constructor(
    private readonly db: Database,
    readonly runId: number,
    readonly ma: string,
    readonly profile: RunProfile,
    readonly startedAt: Date,
  ) {}

  static async start(db: Database, ma: string, profile: RunProfile, now: Date): Promise<RunRecorder> {
    const r = await db.query<{ id: number }>(
      `insert into run_history (ma, profile, status, started_at) values ($1, $2, 'running', $3) returning id`,
      [ma, profile, now.toISOString()],
    );
    return new RunRecorder(db, r.rows[0].id, ma, profile, now);
  }

  /** Set by the engine for the run's lifetime (RunOptions.onObjectError). */
  onError?: (e: ObjectError, profile: RunProfile) => void;

  error(e: Omit<ObjectError, "ma">): void {
    const full: ObjectError = { ma: this.ma, ...e };
    this.onError?.(full, this.profile);
    this.counts.errors++;
    this.errorTotal++;
    if (this.errors.length < ERRORS_IN_RESULT) this.errors.push(full);
    this.unwritten.push(full);
  }

  /** Writes buffered errors; called at batch boundaries so memory stays flat on huge runs. */
  async flushErrors(): Promise<void> {
    if (this.unwritten.length === 0) return;
    const rows = this.unwritten;
    this.unwritten = [];
    await this.db.query(
      `insert into run_error (run_id, ma, cs_id, anchor, dn, code, message)
       select $1, ma, cs_id, anchor, dn, code, message
         from jsonb_to_recordset($2::jsonb) as v(ma text, cs_id bigint, anchor text, dn text, code text, message text)`,
      [this.runId, JSON.stringify(rows.map((e) => ({ ...e, cs_id: e.csId ? Number(e.csId) : null })))],
    );
  }

  async finish(now: Date, status?: RunStatus): Promise<RunResult> {
    const final: RunStatus = status ?? this.status ?? (this.errorTotal > 0 ? "completed-with-errors" : "success");
    const write = async () => {
      await this.flushErrors();
      await this.db.query(
        `update run_history set status = $2, counts = $3::jsonb, message = $4, blocked_deletes = $5, finished_at = $6 where id = $1`,
        [this.runId, final, JSON.stringify(this.counts), this.message ?? null, this.blockedDeletes, now.toISOString()],
      );
    };
    if (final !== "failed") await write();
    else {
      // A run fails most often because the database went away or stalled, and then recording the
      // failure fails (or hangs) too. Its error must not replace the run's own: rethrow the run's
      // message, the database's error as the cause, within a bounded time. The row stays 'running'
      // (the next run marks it abandoned); every batch committed before stays: nothing is lost.
      const writing = write();
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new DatabaseUnavailableError("query-timeout", `the database at ${this.db.description} did not record the failed run within ${RECORD_FAILURE_WITHIN_MS / 1000}s`, undefined)),
          RECORD_FAILURE_WITHIN_MS,
        );
      });
      try {
        await Promise.race([writing, bounded]);
      } catch (writeError) {
        writing.catch(() => undefined); // may still be waiting for its own timeout: nobody listens any more
        throw new Error(this.message ?? `${this.profile} of ${this.ma} failed`, { cause: writeError });
      } finally {
        clearTimeout(timer);
      }
    }
    return {
      runId: String(this.runId),
      ma: this.ma,
      profile: this.profile,
      status: final,
      counts: { ...this.counts },
      startedAt: this.startedAt.toISOString(),
      finishedAt: now.toISOString(),
      durationMs: now.getTime() - this.startedAt.getTime(),
      message: this.message,
      blockedDeletes: this.blockedDeletes || undefined,
      errors: [...this.errors],
    };
  }
}
