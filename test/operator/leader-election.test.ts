// Lease-based leader election against the test API server, with the chart's lease Role enforced:
// one holder at a time, takeover only after the lease expired by the candidate's own clock,
// immediate takeover after a release, and a leader that cannot renew stops leading.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { LeaderElector } from "../../src/operator/leader.ts";
import { eventually, LEASE, OPERATOR_NS, SA_TOKEN, startCluster, type Cluster } from "./helpers.ts";

const TIMING = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

function api(cluster: Cluster): CoordinationV1Api {
  const kc = new KubeConfig();
  kc.loadFromString(cluster.server.kubeconfig({ token: SA_TOKEN, namespace: OPERATOR_NS }));
  return kc.makeApiClient(CoordinationV1Api);
}

function elector(cluster: Cluster, identity: string, log: string[]) {
  return new LeaderElector({
    api: api(cluster),
    namespace: OPERATOR_NS,
    name: LEASE,
    identity,
    timing: TIMING,
    onStartedLeading: () => void log.push(`${identity} started`),
    onStoppedLeading: () => void log.push(`${identity} stopped`),
  });
}

async function holder(cluster: Cluster): Promise<{ holder?: string; transitions?: number }> {
  const lease = await cluster.coordination.readNamespacedLease({ name: LEASE, namespace: OPERATOR_NS });
  return { holder: lease.spec?.holderIdentity, transitions: lease.spec?.leaseTransitions };
}

describe("leader election", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.close());

  it("keeps one leader, takes over an expired lease, and releases on shutdown", async () => {
    const log: string[] = [];
    // "a" acquires once and then dies without releasing: it never renews.
    const a = elector(cluster, "a", log);
    assert.equal(await a.tryAcquireOrRenew(), true);
    assert.deepEqual(await holder(cluster), { holder: "a", transitions: 0 });

    const b = elector(cluster, "b", log);
    assert.equal(await b.tryAcquireOrRenew(), false, "a fresh lease held by another is not taken");

    const stopB = new AbortController();
    const runB = b.run(stopB.signal);
    await eventually(() => log.includes("b started"), "b to take over the expired lease");
    assert.deepEqual(await holder(cluster), { holder: "b", transitions: 1 });
    assert.equal(b.isLeader(), true);

    // While b renews, a third candidate never wins.
    const c = elector(cluster, "c", log);
    for (let i = 0; i < 3; i++) {
      assert.equal(await c.tryAcquireOrRenew(), false);
      await new Promise((r) => setTimeout(r, TIMING.retryPeriodMs));
    }

    stopB.abort();
    await runB;
    assert.ok(log.indexOf("b stopped") > log.indexOf("b started"));
    assert.equal((await holder(cluster)).holder, "", "b released the lease");
    assert.equal(await c.tryAcquireOrRenew(), true, "a released lease is taken at once");
    assert.equal((await holder(cluster)).holder, "c");
  });

  it("stops leading when it cannot renew", async () => {
    const log: string[] = [];
    const d = elector(cluster, "d", log);
    const stop = new AbortController();
    // Wait for c's lease (previous test) to expire, then d leads.
    const run = d.run(stop.signal);
    await eventually(() => log.includes("d started"), "d to lead");
    // Someone else seizes the lease (as a leader with a broken clock might): d's renewals now fail.
    const lease = await cluster.coordination.readNamespacedLease({ name: LEASE, namespace: OPERATOR_NS });
    lease.spec = { ...lease.spec, holderIdentity: "intruder", leaseDurationSeconds: 3600, renewTime: new Date().toISOString().replace("Z", "000Z") as unknown as Date };
    await cluster.coordination.replaceNamespacedLease({ name: LEASE, namespace: OPERATOR_NS, body: lease });
    await eventually(() => log.includes("d stopped"), "d to stop leading");
    assert.equal(d.isLeader(), false);
    stop.abort();
    await run;
    assert.equal((await holder(cluster)).holder, "intruder", "d does not release a lease it does not hold");
  });
});
