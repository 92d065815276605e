// The configuration the engine has applied, read from its database (table applied_config) without
// opening an engine: plan and drift compare the files in git with it.
import { API_VERSION, type AnyResource, type ConfigSet, type ManagementAgent, type RetentionPolicy, type SyncRule } from "../config/model.ts";
import type { Queryable } from "../store/db.ts";

/** The applied configuration, or undefined when nothing was ever applied. */
export async function readAppliedConfig(db: Queryable): Promise<ConfigSet | undefined> {
  const rows = (
    await db.query<{ kind: string; name: string; spec: unknown; generation: number | null }>(
      `select kind, name, spec, generation from applied_config order by kind, name`,
    )
  ).rows;
  if (rows.length === 0) return undefined;
  const config: ConfigSet = { managementAgents: [], syncRules: [], retentionPolicies: [] };
  for (const r of rows) {
    const res = {
      apiVersion: API_VERSION,
      kind: r.kind,
      metadata: { name: r.name, ...(r.generation !== null ? { generation: r.generation } : {}) },
      spec: r.spec,
    } as AnyResource;
    if (r.kind === "ManagementAgent") config.managementAgents.push(res as ManagementAgent);
    else if (r.kind === "SyncRule") config.syncRules.push(res as SyncRule);
    else if (r.kind === "RetentionPolicy") config.retentionPolicies.push(res as RetentionPolicy);
  }
  return config;
}

export function resourcesOf(config: ConfigSet | undefined): AnyResource[] {
  return config ? [...config.managementAgents, ...config.syncRules, ...config.retentionPolicies] : [];
}
