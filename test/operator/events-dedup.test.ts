// Events: a repeat of the same event (object, type, reason, message) bumps count and lastTimestamp
// of the Event already there instead of creating another; a different message is a new Event.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { EventRecorder } from "../../src/operator/events.ts";
import { NS, SA_TOKEN, startCluster, type Cluster } from "./helpers.ts";

describe("event recorder", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.close());

  it("de-duplicates repeats into one Event with a count", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(cluster.server.kubeconfig({ token: SA_TOKEN }));
    let clock = new Date("2025-01-01T00:00:00Z");
    const recorder = new EventRecorder({ core: kc.makeApiClient(CoreV1Api), component: "idsync-operator", instance: "replica-1", now: () => clock });
    const hr = { apiVersion: "idsync.dev/v1alpha1", kind: "ManagementAgent", namespace: NS, name: "hr", uid: "u-1" };
    recorder.record(hr, "Warning", "RunFailed", "full-import failed: file not found");
    clock = new Date("2025-01-01T00:05:00Z");
    recorder.record(hr, "Warning", "RunFailed", "full-import failed: file not found");
    recorder.record(hr, "Warning", "RunFailed", "full-import failed: file not found");
    recorder.record(hr, "Warning", "RunFailed", "full-import failed: permission denied");
    await recorder.flush();

    const events = (await cluster.core.listNamespacedEvent({ namespace: NS })).items.sort((a, b) => (a.message! < b.message! ? -1 : 1));
    assert.equal(events.length, 2);
    const [notFound, denied] = events;
    assert.equal(notFound.count, 3);
    assert.equal(new Date(notFound.firstTimestamp!).toISOString(), "2025-01-01T00:00:00.000Z");
    assert.equal(new Date(notFound.lastTimestamp!).toISOString(), "2025-01-01T00:05:00.000Z");
    assert.deepEqual(
      [notFound.type, notFound.reason, notFound.involvedObject.kind, notFound.involvedObject.name, notFound.involvedObject.uid, notFound.source?.component],
      ["Warning", "RunFailed", "ManagementAgent", "hr", "u-1", "idsync-operator"],
    );
    assert.equal(denied.count, 1);
    const verbs = cluster.server.requests.filter((r) => r.resource === "events" && r.user.startsWith("system:serviceaccount:")).map((r) => `${r.verb}:${r.allowed}`);
    assert.deepEqual(verbs, ["create:true", "patch:true", "patch:true", "create:true"]);
  });
});
