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

export type RunStatus = "success" | "completed-with-errors" | "stopped-deletion-threshold" | "staging" | "failed";

export interface ObjectError {
  ma: string;
  anchor?: string;
  dn?: string;
  csId?: string;
  code: string;
  message: string;
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
}

export interface ManagementAgentStatus {
  name: string;
  connectorSpace: { total: number; connectors: number; disconnectors: number; filtered: number; deleted: number };
  pendingExports: { adds: number; updates: number; deletes: number; errors: number; unconfirmed: number };
  blockedDeletes: number;
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
}
