// `idsync drift`: declared vs applied. Configuration drift: the CRs in git against the configuration
// the engine has applied (its database) and/or against the CRs in a cluster. Data drift: target
// objects whose values differ from what the applied rules say — changes not exported yet (among
// them out-of-band edits that an import saw), exports that failed, and exports an import since then
// did not confirm — listed per MA. Staged import changes are synced first in a rolled-back
// simulation, so an edit the last import saw counts even before the next sync ran; nothing is written.
import type { ConfigSet } from "../config/model.ts";
import { openEngine } from "../engine/index.ts";
import type { Database, Queryable } from "../store/db.ts";
import { readAppliedConfig, resourcesOf } from "./applied.ts";
import { readClusterResources, type ClusterOptions } from "./cluster.ts";
import { comparable, diffResources } from "./diff.ts";
import { attributeChanges, cardOf } from "./impact.ts";
import type { ConfigComparison, DataDrift, DriftObject, DriftReport, ManagementAgentDrift } from "./model.ts";
import { redaction, type Redaction } from "./personal.ts";

export interface DriftOptions {
  /** The CRs in git (validated) and where they were read from. */
  declared: ConfigSet;
  configuration: string;
  /** Compare with the engine's applied configuration and report data drift. */
  database?: Database;
  /** Compare with the CRs in a cluster. */
  cluster?: ClusterOptions;
  redact?: boolean;
  samples?: number;
  now?: () => Date;
}

export async function drift(opts: DriftOptions): Promise<DriftReport> {
  const now = opts.now ?? (() => new Date());
  const generatedAt = now().toISOString();
  const samples = Math.max(0, Math.floor(opts.samples ?? 5));
  const warnings: string[] = [];
  const comparisons: ConfigComparison[] = [];
  let data: DataDrift | undefined;
  const declared = resourcesOf(opts.declared);

  if (opts.database) {
    const db = opts.database;
    const applied = await readAppliedConfig(db);
    if (!applied) warnings.push("The engine has applied no configuration yet: every resource in git is undeclared there.");
    comparisons.push({
      against: "engine",
      target: db.description,
      diff: diffResources(resourcesOf(applied).map((r) => comparable(r)), declared.map((r) => comparable(r))),
    });
    // Data drift is judged by the rules the engine runs, which may differ from git (that is config drift).
    if (applied) data = await dataDrift(db, redaction(applied, opts.redact === true), samples);
  }
  if (opts.cluster) {
    const cluster = await readClusterResources(opts.cluster, declared.map((r) => r.metadata.namespace).filter((n): n is string => !!n));
    const inGit = declared.map((r) => comparable({ ...r, metadata: { ...r.metadata, namespace: r.metadata.namespace ?? cluster.defaultNamespace } }, { metadata: true, namespace: true }));
    comparisons.push({
      against: "cluster",
      target: `${cluster.server} (namespace${cluster.namespaces.length > 1 ? "s" : ""} ${cluster.namespaces.join(", ")})`,
      diff: diffResources(cluster.resources.map((r) => comparable(r, { metadata: true, namespace: true })), inGit),
    });
  }
  const configDrift = comparisons.reduce((n, c) => n + c.diff.added + c.diff.changed + c.diff.removed, 0);
  const dataDriftCount = data?.managementAgents.reduce((n, m) => n + m.objects, 0) ?? 0;
  return {
    kind: "DriftReport",
    version: 1,
    generatedAt,
    configuration: opts.configuration,
    redacted: opts.redact === true,
    config: comparisons,
    ...(data ? { data } : {}),
    warnings,
    summary: { changes: configDrift + dataDriftCount > 0, configDrift, dataDrift: dataDriftCount },
  };
}

interface DriftRow {
  ma: string;
  op: "add" | "update" | "delete";
  state: "pending" | "error" | "unconfirmed";
  new_dn: string | null;
  changes: Record<string, unknown>;
  error: { code?: string; message?: string } | null;
  anchor: string | null;
  dn: string | null;
  attrs: Record<string, unknown>;
}

async function dataDrift(db: Database, redact: Redaction, samples: number): Promise<DataDrift> {
  return db.simulate(async (view) => {
    const engine = await openEngine({
      database: view,
      secrets: async (name) => {
        throw new Error(`drift does not connect to any system (asked for secret ${name})`);
      },
    });
    const config = engine.config()!;
    const projecting = new Set(config.syncRules.filter((r) => r.spec.direction === "inbound" && r.spec.projection).map((r) => r.spec.managementAgent));
    const staged = (await view.query<{ ma: string }>(`select distinct ma from cs_object where pending_import is not null`)).rows
      .map((r) => r.ma)
      .filter((ma) => config.managementAgents.some((m) => m.metadata.name === ma))
      .sort((a, b) => Number(projecting.has(b)) - Number(projecting.has(a)) || a.localeCompare(b));
    for (const ma of staged) await engine.run(ma, "delta-sync");
    await view.query(
      `create temp table idsync_drift as
       with last_import as (
         select ma, max(started_at) as at from run_history
          where profile in ('full-import', 'delta-import') and status <> 'failed' and finished_at is not null group by ma)
       select p.cs_id, p.ma, p.op, p.state, p.new_dn, p.changes, p.error, c.anchor, c.dn, c.attrs
         from pending_export p join cs_object c on c.id = p.cs_id left join last_import l on l.ma = p.ma
        where p.state in ('pending', 'error') or (p.state = 'unconfirmed' and l.at is not null and p.exported_at < l.at)`,
    );
    return { database: db.description, simulatedDeltaSyncs: staged, managementAgents: await perMa(view, redact, samples) };
  });
}

async function perMa(view: Queryable, redact: Redaction, samples: number): Promise<ManagementAgentDrift[]> {
  const counts = await view.query<{ ma: string; objects: number; pending: number; errors: number; unconfirmed: number }>(
    `select ma, count(*) as objects,
            count(*) filter (where state = 'pending') as pending,
            count(*) filter (where state = 'error') as errors,
            count(*) filter (where state = 'unconfirmed') as unconfirmed
       from idsync_drift group by ma order by ma`,
  );
  const out = new Map<string, ManagementAgentDrift>(
    counts.rows.map((r) => [r.ma, { name: r.ma, objects: +r.objects, pending: +r.pending, errors: +r.errors, unconfirmed: +r.unconfirmed, byAttribute: [], samples: [] }]),
  );
  const byAttr = await view.query<{ ma: string; attribute: string; objects: number }>(
    `select d.ma, k.key as attribute, count(*) as objects from idsync_drift d cross join lateral jsonb_object_keys(d.changes) as k(key)
      where d.op = 'update' group by 1, 2 order by 1, 3 desc, 2`,
  );
  for (const r of byAttr.rows) out.get(r.ma)?.byAttribute.push({ attribute: r.attribute, objects: +r.objects });
  const rows = await view.query<DriftRow>(
    `select * from (
       select d.*, row_number() over (partition by d.ma order by d.anchor, d.dn, d.cs_id) as n from idsync_drift d
     ) x where n <= $1 order by ma, n`,
    [samples],
  );
  for (const r of rows.rows) out.get(r.ma)?.samples.push(driftObject(r, redact));
  return [...out.values()];
}

function driftObject(r: DriftRow, redact: Redaction): DriftObject {
  const o: DriftObject = { ...cardOf(r.ma, r.anchor, r.dn, redact), op: r.op, state: r.state, reason: reasonOf(r) };
  if (r.new_dn) o.newDn = redact.dn(r.ma, r.new_dn);
  if (r.op !== "delete") {
    const names = Object.keys(r.changes ?? {});
    o.attributes = attributeChanges(r.ma, names, (a) => r.attrs?.[a], (a) => r.changes[a], redact, r.op === "update");
  }
  // A connected system's error message may quote values; under --redact only its code is shown.
  if (r.state === "error" && r.error) o.error = redact.enabled ? (r.error.code ?? "error") : [r.error.code, r.error.message].filter(Boolean).join(": ");
  return o;
}

function reasonOf(r: DriftRow): string {
  if (r.state === "error") return "the last export of this change failed";
  if (r.state === "unconfirmed") return "exported, but the import since then did not find it as exported";
  if (r.op === "add") return "not in the target yet: the add is not exported";
  if (r.op === "delete") return "still in the target: the delete is not exported";
  return "the target's values differ from the rules: the change is not exported yet";
}
