// An invalid CR gets Ready=False (InvalidSpec) with the validation message and a Warning Event; a
// rule of an invalid MA gets DependencyNotReady; everything else is still applied and runs. Fixing
// the CR makes both Ready.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import {
  annotate,
  apply,
  condition,
  CSV_ROOT,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  NS,
  person,
  startCluster,
  startOperator,
  writeHr,
  type Cluster,
  type Obj,
  type RunningOperator,
} from "./helpers.ts";
import { HR_COLUMNS, writeCsv } from "../engine/builders.ts";

function brokenMa(dir: string, filter: string): Obj {
  const ma = hrMa(dir, { filter });
  ma.metadata.name = "contractors";
  ma.spec.connector.csv.path = `${CSV_ROOT}/contractors.csv`;
  return ma;
}

function contractorsRule(): Obj {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "SyncRule",
    metadata: { name: "contractors-inbound", namespace: NS },
    spec: {
      direction: "inbound",
      managementAgent: "contractors",
      sourceObjectType: "person",
      metaverseObjectType: "person",
      precedence: 20,
      join: [{ metaverse: "employeeId", expression: "source.employeeId" }],
      attributeFlows: [{ target: "title", expression: "source.department" }],
    },
  };
}

describe("an invalid CR", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let operator: RunningOperator;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_invalid");
    writeHr(cluster.dir, [person(1)]);
    writeCsv(join(cluster.dir, "contractors.csv"), HR_COLUMNS, [person(1)]);
    operator = startOperator(cluster, db.url);
  });
  after(async () => {
    await operator?.stop();
    await db?.drop();
    await cluster?.close();
  });

  it("is Ready=False with the reason, and does not stop the others", async () => {
    await apply(cluster, hrMa(cluster.dir));
    await apply(cluster, hrInboundRule());
    await apply(cluster, brokenMa(cluster.dir, 'object.nosuch == "x"'));
    await apply(cluster, contractorsRule());

    const broken = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "contractors");
      return condition(o, "Ready")?.reason === "InvalidSpec" ? o : undefined;
    }, "contractors Ready=False InvalidSpec");
    assert.equal(condition(broken, "Ready")!.status, "False");
    assert.match(condition(broken, "Ready")!.message, /spec\.filter/);
    assert.match(condition(broken, "Ready")!.message, /nosuch/);
    assert.equal(condition(broken, "Stalled")!.status, "True");
    assert.equal(condition(broken, "Ready")!.observedGeneration, broken.metadata.generation);

    const dependent = await eventually(async () => {
      const o = await get(cluster, "SyncRule", "contractors-inbound");
      return condition(o, "Ready")?.reason === "DependencyNotReady" ? o : undefined;
    }, "the contractors rule DependencyNotReady");
    assert.match(condition(dependent, "Ready")!.message, /ManagementAgent 'contractors' is not ready/);

    // The valid MA was applied and ran regardless.
    await eventually(async () => (await get(cluster, "ManagementAgent", "hr"))?.status?.connectorSpace?.total === 1, "hr imported");
    await eventually(async () => condition(await get(cluster, "SyncRule", "hr-inbound"), "Ready")?.status === "True", "hr-inbound Ready=True");

    const events = await eventually(async () => {
      const list = await cluster.core.listNamespacedEvent({ namespace: NS });
      const found = list.items.filter((e) => e.involvedObject.name === "contractors" && e.reason === "InvalidSpec");
      return found.length > 0 ? found : undefined;
    }, "a Warning Event about the invalid MA");
    assert.equal(events[0].type, "Warning");
    assert.equal(events[0].involvedObject.kind, "ManagementAgent");
    assert.equal(events[0].involvedObject.uid, broken.metadata.uid);
  });

  it("is Ready once fixed, and so is what depends on it", async () => {
    await apply(cluster, brokenMa(cluster.dir, 'object.status == "pending"'));
    const fixed = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "contractors");
      return condition(o, "Ready")?.status === "True" && o?.status?.connectorSpace?.total === 1 ? o : undefined;
    }, "contractors Ready=True and imported");
    assert.equal(condition(fixed, "Stalled")!.status, "False");
    const rule = await eventually(async () => {
      const o = await get(cluster, "SyncRule", "contractors-inbound");
      return condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "the contractors rule Ready=True");
    assert.equal(condition(rule, "Ready")!.reason, "Applied");
  });

  it("keeps the applied version running when a change breaks it", async () => {
    const applied = (await get(cluster, "SyncRule", "hr-inbound"))!;
    await apply(cluster, hrInboundRule({ scope: "source.nosuch == 1" }));
    const broken = await eventually(async () => {
      const o = await get(cluster, "SyncRule", "hr-inbound");
      return condition(o, "Ready")?.reason === "InvalidSpec" ? o : undefined;
    }, "hr-inbound InvalidSpec");
    assert.match(condition(broken, "Ready")!.message, new RegExp(`generation ${applied.metadata.generation} stays applied`));
    // Had the rule been unapplied, a full sync would disconnect hr's objects from the metaverse.
    await annotate(cluster, "ManagementAgent", "hr", { "idsync.dev/run": "full-sync@after-break" });
    const hr = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "hr");
      return o?.status?.lastHandledRunRequest === "full-sync@after-break" ? o : undefined;
    }, "the full sync to run");
    assert.equal(hr.status.lastRun.profile, "full-sync");
    assert.equal(hr.status.connectorSpace.connectors, 1, "still joined: the last good rule is in effect");
  });
});
