// Status goes through the status subresource as a merge patch carrying the resourceVersion it was
// computed from. A stale object gets 409; the writer re-reads (GET, allowed by the chart's RBAC)
// and recomputes from the fresh object instead of clobbering it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { RESOURCE_TYPES } from "../../src/operator/kube.ts";
import { StatusWriter, type StatusObject } from "../../src/operator/status.ts";
import { apply, get, GROUP, hrMa, MERGE, NS, SA_TOKEN, startCluster, type Cluster } from "./helpers.ts";

describe("status writer", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.close());

  it("retries a 409 from the fresh object", async () => {
    const created = await apply(cluster, hrMa("/tmp"));
    // Someone else changes the object after we read it.
    await cluster.custom.patchNamespacedCustomObject({ ...GROUP, namespace: NS, plural: "managementagents", name: "hr", body: { metadata: { labels: { team: "x" } } } }, MERGE);

    const kc = new KubeConfig();
    kc.loadFromString(cluster.server.kubeconfig({ token: SA_TOKEN }));
    const writer = new StatusWriter(kc.makeApiClient(CustomObjectsApi));
    const seen: Array<string | undefined> = [];
    const ok = await writer.write(RESOURCE_TYPES.ManagementAgent, created as StatusObject, (fresh) => {
      seen.push(fresh.metadata.resourceVersion);
      return { observedGeneration: fresh.metadata.generation, blockedDeletes: 0 };
    });
    assert.equal(ok, true);
    assert.equal(seen.length, 2, "computed twice: once from the stale object, once from the fresh one");
    assert.notEqual(seen[0], seen[1]);

    const after = await get(cluster, "ManagementAgent", "hr");
    assert.deepEqual(after!.status, { observedGeneration: 1, blockedDeletes: 0 });
    assert.equal(after!.metadata.labels.team, "x", "the other change survived");

    const sa = cluster.server.requests.filter((r) => r.user.startsWith("system:serviceaccount:"));
    assert.deepEqual(
      sa.map((r) => [r.verb, r.resource, r.subresource ?? "", r.allowed]),
      [
        ["patch", "managementagents", "status", true],
        ["get", "managementagents", "", true],
        ["patch", "managementagents", "status", true],
      ],
    );
  });

  it("reports a vanished object instead of failing", async () => {
    const gone = { metadata: { name: "nobody", namespace: NS, resourceVersion: "1" } };
    const kc = new KubeConfig();
    kc.loadFromString(cluster.server.kubeconfig({ token: SA_TOKEN }));
    const writer = new StatusWriter(kc.makeApiClient(CustomObjectsApi));
    assert.equal(await writer.write(RESOURCE_TYPES.SyncRule, gone, () => ({ observedGeneration: 1 })), false);
  });
});
