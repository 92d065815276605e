// `-n NAMESPACE` watches one namespace: its resources get an engine of their own (the namespace's
// schema) and are applied and run; another namespace's resources are not seen at all — no status, no
// finalizer, no schema.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openDatabase, schemaForNamespace } from "../../src/store/db.ts";
import {
  NS,
  OTHER_NS,
  apply,
  condition,
  createNamespace,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  metaverseCount,
  person,
  startCluster,
  startOperator,
  type Cluster,
  type RunningOperator,
  inOtherNamespace,
  writeHrForTwoNamespaces,
} from "./helpers.ts";
import { after, before } from "node:test";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";

describe("an operator watching one namespace", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let operator: RunningOperator;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_ns_watch_one");
    writeHrForTwoNamespaces(cluster.dir, [person(1), person(2)], [person(7)]);
    await createNamespace(cluster, OTHER_NS);
    for (const o of [hrMa(cluster.dir), hrInboundRule()]) {
      await apply(cluster, o);
      await apply(cluster, inOtherNamespace(o));
    }
    operator = startOperator(cluster, db.url, { namespace: NS });
  });
  after(async () => {
    await operator?.stop();
    await db?.drop();
    await cluster?.close();
  });

  it("runs that namespace's engine and leaves the others alone", async () => {
    await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "hr");
      return condition(o, "Ready")?.status === "True" && o?.status?.connectorSpace?.connectors === 2;
    }, "hr Ready with its two people joined");
    assert.equal(await metaverseCount(db.url, NS), 2);
    const theirs = await get(cluster, "ManagementAgent", "hr", OTHER_NS);
    assert.equal(theirs?.status, undefined, "no status in a namespace not watched");
    assert.equal(theirs?.metadata.finalizers, undefined, "no finalizer either");
    const server = await openDatabase({ url: db.url, migrate: false });
    try {
      const schemas = (await server.query<{ name: string }>(`select schema_name as name from information_schema.schemata where schema_name like 'idsync_%' order by 1`)).rows.map((r) => r.name);
      assert.deepEqual(schemas, [schemaForNamespace(NS)]);
    } finally {
      await server.close();
    }
  });
});
