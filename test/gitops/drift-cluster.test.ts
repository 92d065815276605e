// `drift --cluster`: the CRs in git against the CRs in a cluster (the test API server, through the
// real client-node and the real CLI). Server-set fields — status, uid, resourceVersion, generation,
// managedFields, defaults the API server filled in, kubectl's annotation — are not drift; a changed
// field, a CR only in git and a CR only in the cluster are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import yaml from "js-yaml";
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { loadConfigDirectory } from "../../src/config/index.ts";
import { drift } from "../../src/gitops/index.ts";
import { startApiServer } from "../apiserver/server.ts";
import { idsync } from "./helpers.ts";

const PLURAL: Record<string, string> = { ManagementAgent: "managementagents", SyncRule: "syncrules", RetentionPolicy: "retentionpolicies" };

test("drift against a cluster: changed, only in git, only in the cluster; server fields ignored", async () => {
  const server = await startApiServer();
  const root = mkdtempSync(join(tmpdir(), "idsync-drift-cluster-"));
  try {
    const dir = join(root, "quickstart");
    cpSync(new URL("../../examples/quickstart/", import.meta.url).pathname, dir, { recursive: true });
    const kubeconfig = join(root, "kubeconfig");
    server.writeKubeconfig(kubeconfig);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const api = kc.makeApiClient(CustomObjectsApi);
    const where = (kind: string) => ({ group: "idsync.dev", version: "v1alpha1", namespace: "default", plural: PLURAL[kind] });

    // The CRs as written in git (no defaults filled in: the API server adds them), as kubectl would send them.
    const docs = readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .flatMap((f) => yaml.loadAll(readFileSync(join(dir, f), "utf8")) as Array<{ kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: Record<string, unknown> }>);
    for (const doc of docs) {
      doc.metadata.annotations = { "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(doc) };
      await api.createNamespacedCustomObject({ ...where(doc.kind), body: doc });
    }
    await api.patchNamespacedCustomObjectStatus(
      { ...where("ManagementAgent"), name: "hr", body: { status: { observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "Applied", message: "ok", lastTransitionTime: "2025-01-01T00:00:00Z" }] } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const declared = (await loadConfigDirectory(dir)).config!;

    const same = await drift({ declared, configuration: dir, cluster: { kubeconfig } });
    assert.equal(same.summary.changes, false, JSON.stringify(same.config[0].diff.resources));
    assert.equal(same.config[0].diff.unchanged, docs.length);
    assert.match(same.config[0].target, new RegExp(`^${server.url.replace(/[.]/g, "\\.")}`));

    // Someone edits the cluster by hand, deletes one CR and adds another.
    await api.patchNamespacedCustomObject(
      { ...where("SyncRule"), name: "hr-person-inbound", body: { spec: { precedence: 5 } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await api.deleteNamespacedCustomObject({ ...where("RetentionPolicy"), name: "person" });
    const extra = docs.find((d) => d.kind === "SyncRule")!;
    await api.createNamespacedCustomObject({ ...where("SyncRule"), body: { ...extra, metadata: { name: "hand-made" } } });

    const changed = await drift({ declared, configuration: dir, cluster: { kubeconfig } });
    const diff = changed.config[0].diff;
    assert.deepEqual(
      diff.resources.map((r) => `${r.change} ${r.kind}/${r.namespace}/${r.name}`),
      ["removed SyncRule/default/hand-made", "changed SyncRule/default/hr-person-inbound", "added RetentionPolicy/default/person"],
    );
    assert.deepEqual(diff.resources.find((r) => r.name === "hr-person-inbound")!.fields, [{ path: "spec.precedence", change: "changed", before: 5, after: 10 }]);
    assert.equal(changed.summary.configDrift, 3);
    assert.equal(changed.data, undefined, "no database was given: no data drift");

    // The real CLI: exit code 2 with drift, 0 with --exit-zero; JSON on stdout.
    const cli = await idsync(["-o", "json", "drift", "-f", dir, "--cluster", kubeconfig]);
    assert.equal(cli.code, 2, cli.stderr);
    assert.equal(JSON.parse(cli.stdout).summary.configDrift, 3);
    const zero = await idsync(["drift", "-f", dir, "--cluster", kubeconfig, "--exit-zero"]);
    assert.equal(zero.code, 0, zero.stderr);
    assert.match(zero.stdout, /Configuration in git vs the cluster \(http:\/\/127\.0\.0\.1:\d+ \(namespace default\)\): 1 changed, 1 only in git, 1 only in the cluster/);
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
});
