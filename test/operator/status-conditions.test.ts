// kstatus conditions from what the operator observes, and the merge patches that write them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { desiredStatus, mergeConditions, statusPatch, type ObservedState } from "../../src/operator/status.ts";
import type { Verdict } from "../../src/operator/partition.ts";
import { emptyCounts, type ManagementAgentStatus } from "../../src/engine/types.ts";

const verdict = (reason: Verdict["reason"], generation = 2, message = ""): Verdict => ({
  key: "k",
  kind: "ManagementAgent",
  name: "hr",
  namespace: "team",
  generation,
  valid: reason === "Valid",
  reason,
  message,
});

const engine = (extra: Partial<ManagementAgentStatus> = {}): ManagementAgentStatus => ({
  name: "hr",
  connectorSpace: { total: 3, connectors: 3, disconnectors: 0, filtered: 0, deleted: 0 },
  pendingExports: { adds: 0, updates: 0, deletes: 0, errors: 0, unconfirmed: 0 },
  blockedDeletes: 0,
  lastRun: {
    runId: "7",
    ma: "hr",
    profile: "full-sync",
    status: "success",
    counts: { ...emptyCounts(), projections: 3 },
    startedAt: "2025-01-01T00:00:00.000Z",
    finishedAt: "2025-01-01T00:00:01.000Z",
    durationMs: 1000,
    errors: [],
  },
  ...extra,
});

function conditions(s: ObservedState): Record<string, [string, string]> {
  return Object.fromEntries(desiredStatus(s).conditions.map((c) => [c.type, [c.status, c.reason]]));
}

describe("status", () => {
  it("reports an invalid spec as not Ready and Stalled, at the generation it judged", () => {
    const s = desiredStatus({ kind: "SyncRule", generation: 2, verdict: verdict("InvalidSpec", 2, "spec.scope: bad"), applied: false });
    assert.deepEqual(
      s.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration]),
      [
        ["Ready", "False", "InvalidSpec", 2],
        ["Reconciling", "False", "Idle", 2],
        ["Stalled", "True", "InvalidSpec", 2],
      ],
    );
    assert.equal(s.conditions[0].message, "spec.scope: bad");
    assert.equal(s.fields.observedGeneration, 2);
  });

  it("keeps Ready while a new generation is validated, and says it is Reconciling", () => {
    const c = conditions({ kind: "SyncRule", generation: 3, verdict: verdict("Valid", 2), applied: true });
    assert.deepEqual(c, { Ready: ["True", "Applied"], Reconciling: ["True", "Progressing"], Stalled: ["False", "NotStalled"] });
  });

  it("derives an MA's Ready from its last run, blocked deletes and Secrets", () => {
    const base: ObservedState = { kind: "ManagementAgent", generation: 2, verdict: verdict("Valid"), applied: true };
    assert.deepEqual(conditions({ ...base, engine: engine() }).Ready, ["True", "Succeeded"]);
    assert.deepEqual(conditions({ ...base, engine: engine(), activity: "full-import" }).Reconciling, ["True", "Running"]);
    const failed = engine({ lastRun: { ...engine().lastRun!, status: "failed", message: "connection refused" } });
    assert.deepEqual(conditions({ ...base, engine: failed }).Ready, ["False", "RunFailed"]);
    assert.deepEqual(conditions({ ...base, engine: engine({ blockedDeletes: 4 }) }), {
      Ready: ["False", "DeletesBlocked"],
      Reconciling: ["False", "Idle"],
      Stalled: ["True", "DeletesBlocked"],
    });
    assert.deepEqual(conditions({ ...base, engine: engine(), secretProblem: "Secret team/ldap not found" }).Ready, ["False", "SecretNotFound"]);
    assert.deepEqual(conditions({ ...base, verdict: verdict("DependencyNotReady") }).Reconciling, ["True", "DependencyNotReady"]);

    const fields = desiredStatus({ ...base, engine: engine({ blockedDeletes: 4 }) }).fields;
    assert.deepEqual(fields.connectorSpace, { total: 3, connectors: 3, disconnectors: 0, filtered: 0, deleted: 0 });
    assert.equal(fields.blockedDeletes, 4);
    assert.deepEqual(Object.keys(fields.lastRun as object).sort(), ["counts", "finishedAt", "profile", "result", "runId", "startedAt"]);
  });

  it("moves lastTransitionTime only when a condition's status flips", () => {
    const t0 = new Date("2025-01-01T00:00:00Z");
    const t1 = new Date("2025-01-01T01:00:00Z");
    const first = mergeConditions(undefined, [{ type: "Ready", status: "True", reason: "Applied", message: "" }], t0);
    const same = mergeConditions(first, [{ type: "Ready", status: "True", reason: "Succeeded", message: "other" }], t1);
    assert.equal(same[0].lastTransitionTime, "2025-01-01T00:00:00Z");
    assert.equal(same[0].reason, "Succeeded");
    const flipped = mergeConditions(same, [{ type: "Ready", status: "False", reason: "RunFailed", message: "" }], t1);
    assert.equal(flipped[0].lastTransitionTime, "2025-01-01T01:00:00Z");
  });

  it("writes merge patches with only what changed, nulls for what went away", () => {
    assert.equal(statusPatch({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } }), undefined);
    assert.deepEqual(statusPatch({ a: 1, lastRun: { message: "x", result: "failed" } }, { a: 1, lastRun: { result: "success" } }), {
      lastRun: { message: null, result: "success" },
    });
    assert.deepEqual(statusPatch({ conditions: [{ type: "Ready" }], gone: 3 }, { conditions: [{ type: "Ready" }, { type: "Stalled" }] }), {
      conditions: [{ type: "Ready" }, { type: "Stalled" }],
      gone: null,
    });
  });
});
