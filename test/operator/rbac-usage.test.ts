// The operator's API calls, recorded by the test API server, held against the declared needs
// (src/operator/rbac-needs.ts, which the chart's roles equal — test/chart): nothing outside them,
// and every declared permission used. The one permission a normal run may not need — `get` on the
// custom resources, used to re-read after a 409 — is exercised by status-writer-conflict.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { allows, flattenRules, leaseRules, WATCH_RULES } from "../../src/operator/rbac-needs.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { apply, CSV_ROOT, eventually, get, hrInboundRule, hrMa, LEASE, NS, person, remove, startCluster, startOperator, writeHr, type Cluster } from "./helpers.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

describe("the operator's API calls", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_rbac_usage");
  });
  after(async () => {
    await db?.drop();
    await cluster?.close();
  });

  it("stay within the declared needs and use all of them", async () => {
    writeHr(cluster.dir, [person(1)]);
    await apply(cluster, hrMa(cluster.dir));
    await apply(cluster, hrInboundRule());
    await apply(cluster, { apiVersion: "idsync.dev/v1alpha1", kind: "RetentionPolicy", metadata: { name: "person", namespace: NS }, spec: { metaverseObjectType: "person" } });
    // An MA whose "file" is a directory fails on every scheduled run: the same Warning again and again.
    const ghost = hrMa(cluster.dir, { schedule: [{ profile: "full-import", every: "1s" }] });
    ghost.metadata.name = "ghost";
    mkdirSync(join(cluster.dir, "ghost"));
    ghost.spec.connector.csv.path = `${CSV_ROOT}/ghost`;
    await apply(cluster, ghost);

    const operator = startOperator(cluster, db.url);
    try {
      await eventually(async () => {
        const events = await cluster.core.listNamespacedEvent({ namespace: NS });
        return events.items.some((e) => e.involvedObject.name === "ghost" && e.reason === "RunFailed" && (e.count ?? 0) >= 2) || undefined;
      }, "a repeated RunFailed event");
      await remove(cluster, "ManagementAgent", "ghost");
      await eventually(async () => (await get(cluster, "ManagementAgent", "ghost")) === undefined, "ghost to be finalized");
    } finally {
      await operator.stop(); // releases the lease: an update
    }

    const needs = [...WATCH_RULES, ...leaseRules(LEASE)];
    const calls = cluster.server.requests.filter((r) => r.user.startsWith("system:serviceaccount:"));
    const outside = calls.filter((c) => !c.allowed || !allows(needs, { ...c }));
    assert.deepEqual(outside, [], "calls outside the declared needs");

    const used = new Set<string>();
    for (const c of calls) {
      const resource = c.subresource ? `${c.resource}/${c.subresource}` : c.resource;
      used.add(`${c.apiGroup}/${resource}:${c.verb}`);
      if (c.name) used.add(`${c.apiGroup}/${resource}:${c.verb}@${c.name}`);
    }
    const unused = flattenRules(needs).filter((p) => !used.has(p));
    assert.deepEqual(unused, ["idsync.dev/managementagents:get", "idsync.dev/retentionpolicies:get", "idsync.dev/syncrules:get"].filter((p) => !used.has(p)));
  });
});
