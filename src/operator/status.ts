// Status of the custom resources, kstatus-style: three conditions — Ready, Reconciling, Stalled —
// each with observedGeneration, reason, message and a lastTransitionTime that moves only when the
// condition's status flips; plus, on ManagementAgents, what the engine knows about the MA.
// Deriving the status is pure (desiredStatus, mergeConditions); StatusWriter writes it through the
// status subresource with a JSON merge patch that carries the resourceVersion it was computed from,
// so a concurrent change is a 409 and the status is recomputed from the fresh object, not clobbered.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { ManagementAgentStatus } from "../engine/types.ts";
import { apiErrorCode, MERGE_PATCH, type CustomResourceType } from "./kube.ts";
import type { Verdict } from "./partition.ts";

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: "Ready" | "Reconciling" | "Stalled";
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type DesiredCondition = Omit<Condition, "lastTransitionTime">;

/** Keeps lastTransitionTime of conditions whose status did not change; orders Ready, Reconciling, Stalled. */
export function mergeConditions(existing: readonly Partial<Condition>[] | undefined, desired: readonly DesiredCondition[], now: Date): Condition[] {
  return desired.map((d) => {
    const old = existing?.find((c) => c.type === d.type);
    const lastTransitionTime = old && old.status === d.status && old.lastTransitionTime ? old.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z");
    return { ...d, lastTransitionTime };
  });
}

/** What the operator knows about one resource when it computes its status. */
export interface ObservedState {
  kind: "ManagementAgent" | "SyncRule" | "RetentionPolicy";
  /** metadata.generation of the object now. */
  generation?: number;
  /** The validation verdict of the last configuration pass; undefined until the first pass. */
  verdict?: Verdict;
  /** Whether the engine holds the configuration the verdict was computed for. */
  applied: boolean;
  applyError?: string;
  deleting?: boolean;
  /** MA: the engine's view, when known. */
  engine?: ManagementAgentStatus;
  /** MA: the run in progress or waiting, e.g. "full-sync". */
  activity?: string;
  /** MA: a Secret reference that does not resolve. */
  secretProblem?: string;
  lastHandledRunRequest?: string;
  lastHandledAllowDeletes?: string;
}

function cond(type: Condition["type"], status: ConditionStatus, reason: string, message: string, generation?: number): DesiredCondition {
  return { type, status, reason, message, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
}

/** The status document (without lastTransitionTimes) for what is observed. */
export function desiredStatus(s: ObservedState): { conditions: DesiredCondition[]; fields: Record<string, unknown> } {
  const gen = s.verdict?.generation ?? s.generation;
  const three = (ready: [ConditionStatus, string, string], reconciling: [boolean, string, string], stalled: [boolean, string, string]) => [
    cond("Ready", ...ready, gen),
    cond("Reconciling", reconciling[0] ? "True" : "False", reconciling[1], reconciling[2], gen),
    cond("Stalled", stalled[0] ? "True" : "False", stalled[1], stalled[2], gen),
  ];
  const none: [boolean, string, string] = [false, "Idle", ""];
  const notStalled: [boolean, string, string] = [false, "NotStalled", ""];
  let conditions: DesiredCondition[];
  const v = s.verdict;
  const stale = v !== undefined && s.generation !== undefined && v.generation !== s.generation;

  if (s.deleting) {
    conditions = three(["False", "Deleting", "cleaning up the connector space before the finalizer is removed"], [true, "Deleting", "finalizer idsync.dev/cleanup is running"], notStalled);
  } else if (!v) {
    conditions = three(["Unknown", "Progressing", "validating the declared configuration"], [true, "Progressing", "validating the declared configuration"], notStalled);
  } else if (v.reason === "InvalidSpec") {
    conditions = three(["False", "InvalidSpec", v.message], none, [true, "InvalidSpec", v.message]);
  } else if (v.reason === "DependencyNotReady") {
    conditions = three(["False", "DependencyNotReady", v.message], [true, "DependencyNotReady", v.message], notStalled);
  } else if (s.applyError) {
    conditions = three(["False", "ApplyFailed", s.applyError], [true, "ApplyFailed", "retrying"], notStalled);
  } else if (!s.applied) {
    conditions = three(["Unknown", "Applying", "applying the configuration to the engine"], [true, "Applying", "applying the configuration to the engine"], notStalled);
  } else if (s.kind !== "ManagementAgent") {
    conditions = three(["True", "Applied", "applied to the engine"], none, notStalled);
  } else {
    conditions = maConditions(s, three, none, notStalled);
  }
  if (stale && !s.deleting) {
    // A new generation is being validated: what was applied still stands (Ready does not flap),
    // but the resource is Reconciling until the new generation is observed.
    const message = `generation ${s.generation} is being validated and applied`;
    conditions = conditions.map((c) =>
      c.type === "Reconciling" ? { ...c, status: "True", reason: "Progressing", message } : c.type === "Stalled" ? { ...c, status: "False", reason: "NotStalled", message: "" } : c,
    );
  }

  const fields: Record<string, unknown> = {};
  if (gen !== undefined) fields.observedGeneration = gen;
  if (s.kind === "ManagementAgent" && s.engine) {
    const e = s.engine;
    fields.connectorSpace = { ...e.connectorSpace };
    fields.pendingExports = { ...e.pendingExports };
    fields.blockedDeletes = e.blockedDeletes;
    if (e.lastRun) {
      const r = e.lastRun;
      fields.lastRun = {
        runId: r.runId,
        profile: r.profile,
        result: r.status,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        counts: { ...r.counts },
        ...(r.message ? { message: r.message.slice(0, 1024) } : {}),
      };
    }
  }
  if (s.lastHandledRunRequest !== undefined) fields.lastHandledRunRequest = s.lastHandledRunRequest;
  if (s.lastHandledAllowDeletes !== undefined) fields.lastHandledAllowDeletes = s.lastHandledAllowDeletes;
  return { conditions, fields };
}

function maConditions(
  s: ObservedState,
  three: (r: [ConditionStatus, string, string], rc: [boolean, string, string], st: [boolean, string, string]) => DesiredCondition[],
  none: [boolean, string, string],
  notStalled: [boolean, string, string],
): DesiredCondition[] {
  const reconciling: [boolean, string, string] = s.activity ? [true, "Running", `${s.activity} running or queued`] : none;
  if (s.secretProblem) return three(["False", "SecretNotFound", s.secretProblem], reconciling, [true, "SecretNotFound", s.secretProblem]);
  const e = s.engine;
  if (e && e.blockedDeletes > 0) {
    const what = e.heldImport ? `the ${e.heldImport.profile} held back ${e.blockedDeletes} deletes (${e.heldImport.reason.split(":")[0]})` : `the deletion threshold holds back ${e.blockedDeletes} deletes`;
    const msg = `${what}; annotate idsync.dev/allow-deletes="${e.blockedDeletes}" to release them once`;
    return three(["False", "DeletesBlocked", msg], reconciling, [true, "DeletesBlocked", msg]);
  }
  const last = e?.lastRun;
  if (!last) return three(["True", "Applied", "applied; no run has finished yet"], reconciling, notStalled);
  const summary = `${last.profile} ${last.status} at ${last.finishedAt}`;
  switch (last.status) {
    case "failed":
      return three(["False", "RunFailed", `${summary}: ${(last.message ?? "").slice(0, 900)}`], reconciling, notStalled);
    case "completed-with-errors":
      return three(["True", "CompletedWithErrors", `${summary}: ${last.counts.errors} object errors`], reconciling, notStalled);
    case "staging":
      return three(["True", "Staging", summary], reconciling, notStalled);
    default:
      return three(["True", "Succeeded", summary], reconciling, notStalled);
  }
}

export interface StatusObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number };
  status?: Record<string, unknown> & { conditions?: Condition[] };
}

/** The full status for `object` given what is observed; `now` only stamps conditions that flip. */
export function buildStatus(object: StatusObject, observed: ObservedState, now: Date): Record<string, unknown> {
  const { conditions, fields } = desiredStatus(observed);
  return { ...fields, conditions: mergeConditions(object.status?.conditions, conditions, now) };
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The JSON merge patch (RFC 7386) turning `current` into `next`: only changed keys, removed keys as
 * null, objects recursively (a merge patch merges them), arrays whole (a merge patch replaces them).
 * Undefined when nothing changes.
 */
export function statusPatch(current: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const before = current ?? {};
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) continue;
    const old = before[k];
    if (isObject(v) && isObject(old)) {
      const inner = statusPatch(old, v);
      if (inner) patch[k] = inner;
    } else if (canonical(old) !== canonical(v)) patch[k] = v;
  }
  for (const k of Object.keys(before)) if (next[k] === undefined && before[k] !== undefined && before[k] !== null) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export class StatusWriter {
  constructor(private readonly custom: CustomObjectsApi, private readonly maxAttempts = 5) {}

  /**
   * Writes the status computed by `compute` from the object; on 409 re-reads the object and
   * computes again. Returns false when the object is gone (404), true otherwise.
   */
  async write(type: CustomResourceType, object: StatusObject, compute: (fresh: StatusObject) => Record<string, unknown>): Promise<boolean> {
    let current = object;
    for (let attempt = 1; ; attempt++) {
      const next = compute(current);
      const patch = statusPatch(current.status, next);
      if (!patch) return true;
      try {
        await this.custom.patchNamespacedCustomObjectStatus(
          {
            group: type.group,
            version: type.version,
            plural: type.plural,
            namespace: current.metadata.namespace ?? "default",
            name: current.metadata.name,
            body: { metadata: { resourceVersion: current.metadata.resourceVersion }, status: patch },
          },
          MERGE_PATCH,
        );
        return true;
      } catch (e) {
        const code = apiErrorCode(e);
        if (code === 404) return false;
        if (code !== 409 || attempt >= this.maxAttempts) throw e;
        current = (await this.custom.getNamespacedCustomObject({
          group: type.group,
          version: type.version,
          plural: type.plural,
          namespace: current.metadata.namespace ?? "default",
          name: current.metadata.name,
        })) as StatusObject;
      }
    }
  }
}
