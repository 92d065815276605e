// Change a SyncRule → the operator applies it, runs a full sync of the affected MAs and exports:
// the target (a CSV file) changes for every object, not just for those imported since.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import {
  apply,
  applyHrToDirectory,
  condition,
  eventually,
  get,
  hrInboundRule,
  operatorScenario,
  person,
  readCsv,
  writeHr,
} from "./helpers.ts";

describe("a changed SyncRule", () => {
  const s = operatorScenario("operator_rule_change", async (cluster) => {
    writeHr(cluster.dir, [person(1), person(2)]);
    await applyHrToDirectory(cluster);
  });

  it("is fully synced and the target changes", async () => {
    const target = join(s.cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 2, "the first export");
    assert.deepEqual(readCsv(target).map((r) => r.displayName).sort(), ["Given1 Family1", "Given2 Family2"]);

    const before = await eventually(async () => {
      const o = await get(s.cluster, "SyncRule", "hr-inbound");
      return condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "the rule Ready=True");
    const rule = hrInboundRule();
    rule.spec.attributeFlows[1] = { target: "displayName", expression: 'source.sn + ", " + source.givenName' };
    await apply(s.cluster, rule);

    const rows = await eventually(() => {
      const r = readCsv(target);
      return r.every((x) => x.displayName.includes(",")) && r.length === 2 ? r : undefined;
    }, "the directory to show the new displayName format");
    assert.deepEqual(rows.map((r) => r.displayName).sort(), ["Family1, Given1", "Family2, Given2"]);

    // The HR file did not change: only a full sync could have re-flowed these objects.
    const hr = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return o?.status?.lastRun?.profile === "full-sync" ? o : undefined;
    }, "hr's last run to be the full sync");
    assert.equal(hr.status.lastRun.result, "success");

    const after = await eventually(async () => {
      const o = await get(s.cluster, "SyncRule", "hr-inbound");
      return condition(o, "Ready")?.observedGeneration === o?.metadata.generation && condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "the rule's Ready condition to observe the new generation");
    assert.equal(after.metadata.generation, before.metadata.generation + 1);
    // Ready stayed True across the change: its lastTransitionTime did not move.
    assert.equal(condition(after, "Ready")!.lastTransitionTime, condition(before, "Ready")!.lastTransitionTime);
  });
});
