// The chart grants the operator's service account exactly what src/operator/rbac-needs.ts declares
// (which the operator tests hold the recorded API calls against): no verb more, no verb less —
// cluster-wide when watching all namespaces, in the one namespace otherwise; Leases only in the
// release namespace, and only the named Lease beyond `create`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { flattenRules, leaseRules, WATCH_RULES } from "../../src/operator/rbac-needs.ts";
import { chartRbac, find, renderChart } from "./render.ts";

describe("the chart's RBAC", () => {
  it("equals the operator's needs when watching all namespaces", () => {
    const rbac = chartRbac({ namespace: "ops" });
    assert.deepEqual(rbac.serviceAccount, { name: "idsync", namespace: "ops" });
    assert.deepEqual(flattenRules(rbac.clusterRules), flattenRules(WATCH_RULES));
    assert.deepEqual(rbac.roleRules.map((r) => r.namespace), ["ops"]);
    assert.deepEqual(flattenRules(rbac.roleRules[0].rules), flattenRules(leaseRules("idsync-operator")));
  });

  it("is a Role in the watched namespace when watching one", () => {
    const rbac = chartRbac({ namespace: "ops", values: { watchNamespace: "team-a", leaderElection: { leaseName: "my-lease" } } });
    assert.deepEqual(rbac.clusterRules, []);
    const byNs = Object.fromEntries(rbac.roleRules.map((r) => [r.namespace, flattenRules(r.rules)]));
    assert.deepEqual(byNs, { "team-a": flattenRules(WATCH_RULES), ops: flattenRules(leaseRules("my-lease")) });
    const { documents } = renderChart({ namespace: "ops", values: { watchNamespace: "team-a", leaderElection: { leaseName: "my-lease" } } });
    assert.equal(find(documents, "ClusterRole").length, 0);
    const env = find(documents, "Deployment")[0].spec.template.spec.containers[0].env;
    assert.equal(env.find((e: { name: string }) => e.name === "IDSYNC_LEASE_NAME").value, "my-lease", "the operator uses the Lease the Role names");
  });

  it("never grants wildcards", () => {
    const { documents } = renderChart();
    for (const role of [...find(documents, "ClusterRole"), ...find(documents, "Role")]) {
      for (const rule of role.rules) {
        for (const list of [rule.apiGroups, rule.resources, rule.verbs]) assert.ok(!list.includes("*"), `${role.kind} ${role.metadata.name}: no wildcards`);
      }
    }
  });
});
