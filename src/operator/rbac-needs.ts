// Every Kubernetes API call the operator makes, as RBAC rules: the single list the Helm chart's
// ClusterRole/Role and lease Role must equal (test/chart checks both ways), and that the operator
// tests hold the API server's audit log against (no call outside it, every rule used).
// Adding an API call to the operator means adding it here, then to the chart.

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** Granted where the operator watches: cluster-wide (ClusterRole) or in the one watched namespace (Role). */
export const WATCH_RULES: PolicyRule[] = [
  // informers (list, watch); get: re-reading an object after a 409 on a status write
  { apiGroups: ["idsync.dev"], resources: ["managementagents", "syncrules", "retentionpolicies"], verbs: ["get", "list", "watch"] },
  // the finalizer idsync.dev/cleanup (merge patch of metadata.finalizers), and removing the one-shot
  // annotations idsync.dev/run and idsync.dev/allow-deletes once handled (JSON patch: test, remove)
  { apiGroups: ["idsync.dev"], resources: ["managementagents"], verbs: ["patch"] },
  // status through the status subresource (merge patch)
  { apiGroups: ["idsync.dev"], resources: ["managementagents/status", "syncrules/status", "retentionpolicies/status"], verbs: ["patch"] },
  // connector credentials (passwordSecretRef, connectionSecretRef), from the watched cache. The
  // operator lists and watches only opted-in Secrets (label selector idsync.dev/secret=true, a field
  // selector per --allowed-secret name); RBAC cannot grant by label, so that limit is the operator's.
  { apiGroups: [""], resources: ["secrets"], verbs: ["list", "watch"] },
  // Events, de-duplicated by patching count
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
];

/** Granted in the lease's namespace only. `create` cannot be limited by name in RBAC; the rest is. */
export function leaseRules(leaseName: string): PolicyRule[] {
  return [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "update"], resourceNames: [leaseName] },
  ];
}

export const DEFAULT_LEASE_NAME = "idsync-operator";

export interface ApiCall {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  name?: string;
}

/** Whether the rules allow the call, with RBAC's matching (no wildcards are used here). */
export function allows(rules: readonly PolicyRule[], call: ApiCall): boolean {
  const resource = call.subresource ? `${call.resource}/${call.subresource}` : call.resource;
  return rules.some(
    (r) =>
      r.verbs.includes(call.verb) &&
      r.apiGroups.includes(call.apiGroup) &&
      r.resources.includes(resource) &&
      (!r.resourceNames?.length || (call.name !== undefined && r.resourceNames.includes(call.name))),
  );
}

/** The rules flattened to "group/resource:verb[@name]" strings, for comparing rule sets. */
export function flattenRules(rules: readonly PolicyRule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups) {
      for (const res of r.resources) {
        for (const v of r.verbs) {
          if (r.resourceNames?.length) for (const n of r.resourceNames) out.add(`${g}/${res}:${v}@${n}`);
          else out.add(`${g}/${res}:${v}`);
        }
      }
    }
  }
  return [...out].sort();
}
