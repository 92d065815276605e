// An MA's spec.schedule runs its profiles: a `cycle` every second picks up a change in the source
// and carries it through to the target without anyone asking.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import {
  apply,
  directoryMa,
  directoryOutboundRule,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  person,
  readCsv,
  startCluster,
  startOperator,
  writeHr,
  type Cluster,
  type RunningOperator,
} from "./helpers.ts";

describe("scheduled runs", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let operator: RunningOperator;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_schedule");
    writeHr(cluster.dir, [person(1)]);
    await apply(cluster, hrMa(cluster.dir, { schedule: [{ profile: "cycle", every: "1s" }] }));
    await apply(cluster, directoryMa(cluster.dir, { schedule: [{ profile: "export", every: "1s" }] }));
    await apply(cluster, hrInboundRule());
    await apply(cluster, directoryOutboundRule());
    operator = startOperator(cluster, db.url);
  });
  after(async () => {
    await operator?.stop();
    await db?.drop();
    await cluster?.close();
  });

  it("run the declared profiles on schedule", async () => {
    const target = join(cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 1 || undefined, "the first account");
    writeHr(cluster.dir, [person(1), person(2)]);
    await eventually(() => readCsv(target).length === 2 || undefined, "the scheduled cycle and export to bring in the second person");
    await eventually(async () => (await get(cluster, "ManagementAgent", "hr"))?.status?.connectorSpace?.total === 2, "hr's status to count 2 objects");
    assert.ok(operator.logs.some((l) => l.includes('"reason":"schedule every 1s"') && l.includes('"profile":"delta-import"')));
  });
});
