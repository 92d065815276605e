// The engine's public vocabulary: what a run reports and what callers (CLI, operator, gitops) see.
import type { RunProfile } from "../config/model.ts";

export type { RunProfile };

export interface RunCounts {
  adds: number;
  updates: number;
  renames: number;
  deletes: number;
  unchanged: number;
  joins: number;
  /** Soft-deleted metaverse objects brought back by their returning source object (same id). */
  restores: number;
  projections: number;
  provisions: number;
  deprovisions: number;
  disconnects: number;
  filtered: number;
  exported: number;
  confirmed: number;
  errors: number;
}

export function emptyCounts(): RunCounts {
  return {
    adds: 0,
    updates: 0,
    renames: 0,
    deletes: 0,
    unchanged: 0,
    joins: 0,
    restores: 0,
    projections: 0,
    provisions: 0,
    deprovisions: 0,
    disconnects: 0,
    filtered: 0,
    exported: 0,
    confirmed: 0,
    errors: 0,
  };
}

/**
 * How a run ended. `stopped-deletion-threshold`: an import or export held its deletes (too many);
 * `stopped-source-empty`: a full import read nothing while the connector space holds objects, and
 * held it all. `abandoned` is only ever found in history: the process running it ended before it
 * finished (kill -9) and the next run of its MA marked it so.
 */
export type RunStatus =
  | "success"
  | "completed-with-errors"
  | "stopped-deletion-threshold"
  | "stopped-source-empty"
  | "staging"
  | "failed"
  | "abandoned";

export interface ObjectError {
  ma: string;
  anchor?: string;
  dn?: string;
  csId?: string;
  code: string;
  message: string;
}

/**
 * One failing object of one phase (import, sync, export): the same object failing again in a
 * later pass of a cycle is the same failure, counted and listed once.
 */
export function objectErrorKey(e: ObjectError, profile: RunProfile): string {
  const phase = profile.endsWith("import") ? "import" : profile.endsWith("sync") ? "sync" : "export";
  return `${e.ma}\u0000${phase}\u0000${e.csId ?? e.anchor ?? e.dn ?? e.message}\u0000${e.code}`;
}

export interface RunResult {
  runId: string;
  ma: string;
  profile: RunProfile;
  status: RunStatus;
  counts: RunCounts;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  message?: string;
  /** Deletes held back by the deletion threshold (export only). */
  blockedDeletes?: number;
  errors: ObjectError[];
}

export interface CycleResult {
  runs: RunResult[];
  passes: number;
  /** Whether anything at all changed (imports, syncs or exports). */
  changed: boolean;
  status: RunStatus;
  /**
   * Objects with errors, per MA, each counted once however many passes met it (an export that
   * fails in every pass is one failing object, not one per pass).
   */
  objectErrors: Record<string, number>;
}

export interface ManagementAgentStatus {
  name: string;
  connectorSpace: { total: number; connectors: number; disconnectors: number; filtered: number; deleted: number };
  pendingExports: { adds: number; updates: number; deletes: number; errors: number; unconfirmed: number };
  /** Deletes held by the deletion guard: an import's (below) or an export's, whichever is more. */
  blockedDeletes: number;
  /** The last import held its deletes: releasing it means running that import with allowDeletes. */
  heldImport?: { profile: RunProfile; deletes: number; reason: string };
  lastRun?: RunResult;
}

export interface ApplyResult {
  /** Resources whose spec changed (or are new / removed) compared to what the engine had applied. */
  changed: Array<{ kind: string; name: string; change: "added" | "changed" | "removed" }>;
  /** Management agents whose connector space must be fully re-synced because a rule or filter changed. */
  needsFullSync: string[];
}

export interface RunOptions {
  /** Release a held export once, whatever the deletion threshold says. */
  allowDeletes?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number | undefined, what: string) => void;
  /** Hears every object error of the run (a cycle counts distinct failing objects with it). */
  onObjectError?: (error: ObjectError, profile: RunProfile) => void;
}
