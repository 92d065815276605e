// `idsync plan`: what a change of the CRs would do, before it is merged. First the configuration
// diff against what the engine has applied; then the data impact: inside ONE transaction that is
// always rolled back (Database.simulate) the engine applies the proposed configuration and runs the
// full syncs the operator would run after it — the same code that will run for real, connectors
// never called — and the sync state afterwards is compared with a snapshot taken before.
// Nothing is changed, not even run history; only sequence values (which Postgres never rolls back)
// move on.
import type { ConfigSet } from "../config/model.ts";
import { deletionThresholds, previewFullSync } from "../engine/preview.ts";
import type { Database } from "../store/db.ts";
import { readAppliedConfig, resourcesOf } from "./applied.ts";
import { comparable, diffResources } from "./diff.ts";
import { measureImpact, takeSnapshot } from "./impact.ts";
import type { DataImpact, ManagementAgentImpact, PlanReport, SyncErrorSample } from "./model.ts";
import { redaction } from "./personal.ts";

export interface PlanOptions {
  database: Database;
  /** The proposed configuration (validated), and where it was read from (for the report). */
  proposed: ConfigSet;
  configuration: string;
  /** Hide values of personal attributes in samples. */
  redact?: boolean;
  /** Sample objects per MA and kind of change (default 5). */
  samples?: number;
  now?: () => Date;
  onProgress?: (done: number, total: number | undefined, what: string) => void;
}

export async function plan(opts: PlanOptions): Promise<PlanReport> {
  const db = opts.database;
  const now = opts.now ?? (() => new Date());
  const generatedAt = now().toISOString();
  const samples = Math.max(0, Math.floor(opts.samples ?? 5));
  const applied = await readAppliedConfig(db);
  const config = diffResources(resourcesOf(applied).map((r) => comparable(r)), resourcesOf(opts.proposed).map((r) => comparable(r)));
  const redact = redaction(mergeForRedaction(applied, opts.proposed), opts.redact === true);
  const outboundTargets = new Set(
    [...(applied?.syncRules ?? []), ...opts.proposed.syncRules]
      .filter((r) => r.spec.direction === "outbound")
      .map((r) => `${r.spec.managementAgent}\u0000${r.spec.targetObjectType}`),
  );
  const warnings: string[] = [];
  if (!applied) warnings.push("The engine has applied no configuration yet: every resource is new and there is no synchronized data to simulate against.");

  const simulation = await db.simulate(async (view) => {
    const snapshot = await takeSnapshot(view);
    const heldBefore = await deletionThresholds(view, applied ?? opts.proposed).catch(() => new Map());
    const preview = await previewFullSync(view, opts.proposed, { now, onProgress: opts.onProgress });
    const failed = preview.runs.find((r) => r.status === "failed");
    if (failed) throw new Error(`the simulated full sync of ${failed.ma} failed: ${failed.message ?? "unknown error"}`);
    const thresholds = await deletionThresholds(view, opts.proposed);
    const impact = await measureImpact(view, { samples, redaction: redact, outboundTargets });
    return { snapshot, heldBefore, preview, thresholds, impact };
  });
  const { snapshot, heldBefore, preview, thresholds, impact } = simulation;

  // Thresholds: an MA is listed when the change adds deletes there; "tripped" when they exceed it.
  const byName = new Map(impact.managementAgents.map((m) => [m.name, m]));
  for (const ma of opts.proposed.managementAgents) {
    const t = thresholds.get(ma.metadata.name);
    const declared = ma.spec.deletionThreshold;
    const i = byName.get(ma.metadata.name);
    if (!t || !declared || !i || i.deletes === 0) continue;
    i.threshold = { ...declared, deletes: t.deletes, total: t.total, exceeded: t.exceeded, ...(t.reason ? { reason: t.reason } : {}) };
  }
  for (const [ma, t] of heldBefore) {
    if (t.exceeded) warnings.push(`${ma}: ${t.deletes} pending delete(s) are already held by its deletion threshold, before this change.`);
  }
  const pendingMas = Object.entries(snapshot.pendingImports);
  if (pendingMas.length > 0) {
    const total = pendingMas.reduce((n, [, c]) => n + c, 0);
    warnings.push(
      `${total} staged import change(s) (${pendingMas.map(([m, c]) => `${m}: ${c}`).join(", ")}) were not synced yet; the simulated full sync includes them.`,
    );
  }
  for (const r of config.resources) {
    if (r.kind === "ManagementAgent" && r.change === "added") {
      warnings.push(`ManagementAgent ${r.name} is new: its connector space stays empty until its first import, so what it would import, join or project is not shown.`);
    }
  }
  const errors: SyncErrorSample[] = preview.runs.flatMap((r) =>
    r.errors.map((e) => ({ ma: e.ma, code: e.code, ...(e.anchor ? { anchor: e.anchor } : {}), message: e.message })),
  );
  const data: DataImpact = {
    simulated: preview.runs.map((r) => ({ ma: r.ma, profile: r.profile, status: r.status })),
    removedManagementAgents: preview.removed,
    managementAgents: impact.managementAgents.filter(hasImpact),
    metaverse: impact.metaverse,
    errors: { count: preview.runs.reduce((n, r) => n + r.counts.errors, 0), samples: errors.slice(0, Math.max(samples, 1) * 4) },
  };
  const objectChanges = data.managementAgents.reduce((n, m) => n + m.adds + m.updates + m.renames + m.deletes, 0);
  const configChanges = config.added + config.changed + config.removed;
  const mv = data.metaverse;
  const changes = configChanges > 0 || data.managementAgents.length > 0 || mv.projections + mv.deletions + mv.updates > 0;
  return {
    kind: "PlanReport",
    version: 1,
    generatedAt,
    configuration: opts.configuration,
    database: db.description.replace(/ \(simulation, rolled back\)$/, ""),
    redacted: redact.enabled,
    config,
    data,
    warnings,
    summary: {
      changes,
      configChanges,
      objectChanges,
      deletes: data.managementAgents.reduce((n, m) => n + m.deletes, 0),
      metaverseDeletions: mv.deletions,
      thresholdsTripped: data.managementAgents.filter((m) => m.threshold?.exceeded).map((m) => m.name),
    },
  };
}

function hasImpact(m: ManagementAgentImpact): boolean {
  return (
    m.adds + m.updates + m.renames + m.deletes + m.provisions + m.deprovisions + m.joins + m.projections + m.disconnects + m.cancelled > 0 ||
    m.threshold?.exceeded === true
  );
}

/** Personal attributes declared in either configuration are personal in the report. */
function mergeForRedaction(a: ConfigSet | undefined, b: ConfigSet): ConfigSet {
  return {
    managementAgents: [],
    syncRules: [...(a?.syncRules ?? []), ...b.syncRules],
    retentionPolicies: [...(a?.retentionPolicies ?? []), ...b.retentionPolicies],
  };
}
