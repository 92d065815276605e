// Deleting a ManagementAgent: the finalizer holds it while the operator disconnects its connectors
// per the rules (here: the retention policy deletes people disconnected from HR, so their directory
// accounts are deprovisioned and exported) and clears its connector space; then the MA is gone.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { openEngine } from "../../src/engine/index.ts";
import { openDatabase } from "../../src/store/db.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import {
  apply,
  directoryMa,
  directoryOutboundRule,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  NS,
  person,
  readCsv,
  remove,
  startCluster,
  startOperator,
  writeHr,
  type Cluster,
  type RunningOperator,
} from "./helpers.ts";

describe("a deleted ManagementAgent", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let operator: RunningOperator;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_finalizer");
    writeHr(cluster.dir, [person(1), person(2)]);
    for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir), hrInboundRule(), directoryOutboundRule()]) await apply(cluster, o);
    await apply(cluster, {
      apiVersion: "idsync.dev/v1alpha1",
      kind: "RetentionPolicy",
      metadata: { name: "person", namespace: NS },
      spec: { metaverseObjectType: "person", deleteWhen: { disconnectedFrom: ["hr"] } },
    });
    operator = startOperator(cluster, db.url);
  });
  after(async () => {
    await operator?.stop();
    await db?.drop();
    await cluster?.close();
  });

  it("is cleaned up before its finalizer is removed", async () => {
    const target = join(cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 2, "the accounts to be exported");
    const hr = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "hr");
      return o?.metadata.finalizers?.includes("idsync.dev/cleanup") && o.status?.connectorSpace?.total === 2 ? o : undefined;
    }, "hr to carry the finalizer and hold 2 objects");
    assert.ok(hr);

    await remove(cluster, "ManagementAgent", "hr");
    await eventually(async () => (await get(cluster, "ManagementAgent", "hr")) === undefined, "hr to be gone");

    const engine = await openEngine({ database: await openDatabase({ url: db.url }) });
    try {
      const status = await engine.status("hr");
      assert.equal(status.connectorSpace.total, 0, "hr's connector space is cleared");
      assert.equal(status.pendingExports.adds + status.pendingExports.updates + status.pendingExports.deletes, 0);
    } finally {
      await engine.close();
    }
    // People disconnected from HR were deleted (retention policy), so their accounts were deprovisioned.
    await eventually(() => readCsv(target).length === 0, "the directory accounts to be deleted");

    const cleaned = await cluster.core.listNamespacedEvent({ namespace: NS });
    assert.ok(cleaned.items.some((e) => e.involvedObject.name === "hr" && e.reason === "CleanedUp"), "a CleanedUp event");
  });
});
