// Annotations: `idsync.dev/run: <profile>[@token]` runs a profile once per distinct value;
// `idsync.dev/allow-deletes: "<n>"` releases an export held by the deletion threshold once, and
// only if it holds at most n deletes. Blocked deletes show in status (Ready=False, Stalled=True,
// blockedDeletes) and as a Warning Event.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import {
  NS,
  annotate,
  apply,
  applyHrToDirectory,
  condition,
  eventually,
  get,
  operatorScenario,
  person,
  personRetention,
  readCsv,
  writeHr,
} from "./helpers.ts";

describe("run annotations", () => {
  const s = operatorScenario("operator_annotations", async (cluster) => {
    writeHr(cluster.dir, [person(1), person(2), person(3)]);
    await applyHrToDirectory(cluster, { deletionThreshold: { maxDeletes: 1 } });
    await apply(cluster, personRetention());
  });

  const exportRuns = async () => {
    const text = await (await fetch(`http://127.0.0.1:${await s.operator.port}/metrics`)).text();
    return [...text.matchAll(/^idsync_runs_total\{ma="directory",namespace="idsync-test",profile="export",result="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it("run a profile on request, hold deletes over the threshold, and release them once", async () => {
    const target = join(s.cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 3, "three accounts exported");

    // Two people leave HR; a cycle on hr brings that in and deprovisions their accounts.
    writeHr(s.cluster.dir, [person(1)]);
    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/run": "cycle@1" });
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "directory"))?.status?.pendingExports?.deletes === 2, "two pending deletes on the directory");

    await annotate(s.cluster, "ManagementAgent", "directory", { "idsync.dev/run": "export" });
    const blocked = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "directory");
      return o?.status?.blockedDeletes === 2 && condition(o, "Ready")?.reason === "DeletesBlocked" && o.status.lastHandledRunRequest === "export" ? o : undefined;
    }, "the export to be held by the deletion threshold");
    assert.equal(blocked.status.lastRun.result, "stopped-deletion-threshold");
    assert.equal(condition(blocked, "Ready")!.status, "False");
    assert.equal(condition(blocked, "Stalled")!.status, "True");
    assert.equal(readCsv(target).length, 3, "nothing was deleted");
    const events = await s.cluster.core.listNamespacedEvent({ namespace: NS });
    assert.ok(events.items.some((e) => e.involvedObject.name === "directory" && e.reason === "DeletesBlocked" && e.type === "Warning"));

    // Too few allowed: nothing is released, the request is recorded as handled, the run request is not repeated.
    const runsBefore = await exportRuns();
    await annotate(s.cluster, "ManagementAgent", "directory", { "idsync.dev/allow-deletes": "1" });
    const refused = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "directory");
      return o?.status?.lastHandledAllowDeletes === "1" ? o : undefined;
    }, "allow-deletes=1 to be handled");
    assert.equal(condition(refused, "Reconciling")!.status, "False", "no run was queued again");
    assert.equal(await exportRuns(), runsBefore);
    assert.equal(refused.status.blockedDeletes, 2);
    await eventually(async () => {
      const list = await s.cluster.core.listNamespacedEvent({ namespace: NS });
      return list.items.some((e) => e.involvedObject.name === "directory" && e.reason === "TooManyDeletes") || undefined;
    }, "a TooManyDeletes event");

    // Enough allowed: released once.
    await annotate(s.cluster, "ManagementAgent", "directory", { "idsync.dev/allow-deletes": "2" });
    await eventually(() => readCsv(target).length === 1 || undefined, "the two accounts to be deleted");
    const released = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "directory");
      return o?.status?.lastHandledAllowDeletes === "2" && condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "directory Ready again");
    assert.equal(released.status.blockedDeletes, 0);
    assert.equal(condition(released, "Stalled")!.status, "False");
    assert.equal(await exportRuns(), runsBefore + 1, "exactly one more export ran");
  });
});
