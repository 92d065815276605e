// An MA's spec.schedule runs its profiles: a `cycle` every second picks up a change in the source
// and carries it through to the target without anyone asking.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import {
  apply,
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

describe("scheduled runs", () => {
  const s = operatorScenario("operator_schedule", async (cluster) => {
    writeHr(cluster.dir, [person(1)]);
    await apply(cluster, hrMa(cluster.dir, { schedule: [{ profile: "cycle", every: "1s" }] }));
    await apply(cluster, directoryMa(cluster.dir, { schedule: [{ profile: "export", every: "1s" }] }));
    await apply(cluster, hrInboundRule());
    await apply(cluster, directoryOutboundRule());
  });

  it("run the declared profiles on schedule", async () => {
    const target = join(s.cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 1 || undefined, "the first account");
    writeHr(s.cluster.dir, [person(1), person(2)]);
    await eventually(() => readCsv(target).length === 2 || undefined, "the scheduled cycle and export to bring in the second person");
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr"))?.status?.connectorSpace?.total === 2, "hr's status to count 2 objects");
    assert.ok(s.operator.logs.some((l) => l.includes('"reason":"schedule every 1s"') && l.includes('"profile":"delta-import"')));
  });
});
