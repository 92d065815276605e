// Annotations: `idsync.dev/run: <profile>[@token]` runs a profile once per distinct value;
// `idsync.dev/allow-deletes: "<n>"` releases an export held by the deletion threshold once, and
// only if it holds at most n deletes. Blocked deletes show in status (Ready=False, Stalled=True,
// blockedDeletes) and as a Warning Event.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import {
  annotate,
  apply,
  condition,
  directoryMa,
  directoryOutboundRule,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  NS,
  person,
  readCsv,
  startCluster,
  startOperator,
  writeHr,
  type Cluster,
  type RunningOperator,
} from "./helpers.ts";

describe("run annotations", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let operator: RunningOperator;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_annotations");
    writeHr(cluster.dir, [person(1), person(2), person(3)]);
    for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir, { deletionThreshold: { maxDeletes: 1 } }), hrInboundRule(), directoryOutboundRule()]) await apply(cluster, o);
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

  const exportRuns = async () => {
    const text = await (await fetch(`http://127.0.0.1:${await operator.port}/metrics`)).text();
    return [...text.matchAll(/^idsync_runs_total\{ma="directory",profile="export",result="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it("run a profile on request, hold deletes over the threshold, and release them once", async () => {
    const target = join(cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 3, "three accounts exported");

    // Two people leave HR; a cycle on hr brings that in and deprovisions their accounts.
    writeHr(cluster.dir, [person(1)]);
    await annotate(cluster, "ManagementAgent", "hr", { "idsync.dev/run": "cycle@1" });
    await eventually(async () => (await get(cluster, "ManagementAgent", "directory"))?.status?.pendingExports?.deletes === 2, "two pending deletes on the directory");

    await annotate(cluster, "ManagementAgent", "directory", { "idsync.dev/run": "export" });
    const blocked = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "directory");
      return o?.status?.blockedDeletes === 2 && condition(o, "Ready")?.reason === "DeletesBlocked" && o.status.lastHandledRunRequest === "export" ? o : undefined;
    }, "the export to be held by the deletion threshold");
    assert.equal(blocked.status.lastRun.result, "stopped-deletion-threshold");
    assert.equal(condition(blocked, "Ready")!.status, "False");
    assert.equal(condition(blocked, "Stalled")!.status, "True");
    assert.equal(readCsv(target).length, 3, "nothing was deleted");
    const events = await cluster.core.listNamespacedEvent({ namespace: NS });
    assert.ok(events.items.some((e) => e.involvedObject.name === "directory" && e.reason === "DeletesBlocked" && e.type === "Warning"));

    // Too few allowed: nothing is released, the request is recorded as handled, the run request is not repeated.
    const runsBefore = await exportRuns();
    await annotate(cluster, "ManagementAgent", "directory", { "idsync.dev/allow-deletes": "1" });
    const refused = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "directory");
      return o?.status?.lastHandledAllowDeletes === "1" ? o : undefined;
    }, "allow-deletes=1 to be handled");
    assert.equal(condition(refused, "Reconciling")!.status, "False", "no run was queued again");
    assert.equal(await exportRuns(), runsBefore);
    assert.equal(refused.status.blockedDeletes, 2);
    await eventually(async () => {
      const list = await cluster.core.listNamespacedEvent({ namespace: NS });
      return list.items.some((e) => e.involvedObject.name === "directory" && e.reason === "TooManyDeletes") || undefined;
    }, "a TooManyDeletes event");

    // Enough allowed: released once.
    await annotate(cluster, "ManagementAgent", "directory", { "idsync.dev/allow-deletes": "2" });
    await eventually(() => readCsv(target).length === 1 || undefined, "the two accounts to be deleted");
    const released = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "directory");
      return o?.status?.lastHandledAllowDeletes === "2" && condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "directory Ready again");
    assert.equal(released.status.blockedDeletes, 0);
    assert.equal(condition(released, "Stalled")!.status, "False");
    assert.equal(await exportRuns(), runsBefore + 1, "exactly one more export ran");
  });
});
