// Apply a new ManagementAgent (with its rules) → the operator imports and syncs it, exports to the
// target, and the MA's status shows connector space counts, the last run and Ready=True.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import {
  apply,
  condition,
  directoryMa,
  directoryOutboundRule,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  operatorScenario,
  person,
  readCsv,
  writeHr,
} from "./helpers.ts";

describe("a new ManagementAgent", () => {
  const s = operatorScenario("operator_new_ma");

  it("is imported and synced, and its status shows the counts", async () => {
    writeHr(s.cluster.dir, [person(1), person(2), person(3)]);
    await apply(s.cluster, hrMa(s.cluster.dir));
    await apply(s.cluster, directoryMa(s.cluster.dir));
    await apply(s.cluster, hrInboundRule());
    await apply(s.cluster, directoryOutboundRule());

    const hr = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return o?.status?.connectorSpace?.connectors === 3 ? o : undefined;
    }, "hr's status to show 3 connectors (imported and synced)");
    assert.deepEqual(hr.status.connectorSpace, { total: 3, connectors: 3, disconnectors: 0, filtered: 0, deleted: 0 });
    assert.equal(hr.status.lastRun.profile, "full-sync");
    assert.equal(hr.status.lastRun.result, "success");
    assert.equal(hr.status.lastRun.counts.projections, 3);
    assert.deepEqual(hr.metadata.finalizers, ["idsync.dev/cleanup"]);

    const ready = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      const c = condition(o, "Ready");
      return c?.status === "True" && condition(o, "Reconciling")?.status === "False" ? o : undefined;
    }, "hr Ready=True and not Reconciling");
    assert.equal(condition(ready, "Ready")!.observedGeneration, ready.metadata.generation);
    assert.equal(ready.status.observedGeneration, ready.metadata.generation);
    assert.equal(condition(ready, "Stalled")!.status, "False");

    // Provisioned into the directory and exported: the target file holds the three accounts.
    const rows = await eventually(() => {
      const r = readCsv(join(s.cluster.dir, "directory.csv"));
      return r.length === 3 ? r : undefined;
    }, "directory.csv to hold 3 accounts");
    assert.deepEqual(rows.map((r) => r.displayName).sort(), ["Given1 Family1", "Given2 Family2", "Given3 Family3"]);

    const rule = await eventually(async () => {
      const o = await get(s.cluster, "SyncRule", "hr-inbound");
      return condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "the inbound rule Ready=True");
    assert.equal(condition(rule, "Ready")!.reason, "Applied");
  });

  it("never made an API call outside the chart's RBAC", () => {
    const denied = s.cluster.server.requests.filter((r) => r.user.startsWith("system:serviceaccount:") && !r.allowed);
    assert.deepEqual(denied, []);
  });
});
