// Without a PostgreSQL URL each namespace's engine is an embedded database of its own, in
// <data-dir>/namespaces/<namespace>; state from before (a database in <data-dir> itself) is not
// used, and the operator says so.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
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
  person,
  startCluster,
  startOperator,
  type Cluster,
  type RunningOperator,
  inOtherNamespace,
  writeHrForTwoNamespaces,
} from "./helpers.ts";

describe("the embedded database, one per namespace", () => {
  let cluster: Cluster;
  let operator: RunningOperator;
  let dataDir: string;
  before(async () => {
    cluster = await startCluster();
    dataDir = join(cluster.dir, "state");
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, "PG_VERSION"), "17\n"); // what a database from before leaves in <data-dir>
    writeHrForTwoNamespaces(cluster.dir, [person(1), person(2)], [person(7)]);
    await createNamespace(cluster, OTHER_NS);
    for (const o of [hrMa(cluster.dir), hrInboundRule()]) {
      await apply(cluster, o);
      await apply(cluster, inOtherNamespace(o));
    }
    // Starting PGlite holds the event loop for a second or two: with the tests' 1.5 s renew deadline
    // the leader would lose its lease while opening a namespace's database (production's is 10 s).
    const leaderElection = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 250 };
    operator = startOperator(cluster, "", { database: undefined, dataDir, leaderElection });
  });
  after(async () => {
    await operator?.stop();
    await cluster?.close();
  });

  it("keeps each namespace in a directory of its own", async () => {
    for (const [namespace, people] of [[NS, 2], [OTHER_NS, 1]] as const) {
      await eventually(async () => {
        const o = await get(cluster, "ManagementAgent", "hr", namespace);
        return condition(o, "Ready")?.status === "True" && o?.status?.connectorSpace?.connectors === people;
      }, `${namespace}/hr Ready with its ${people} people joined`);
      assert.ok(existsSync(join(dataDir, "namespaces", namespace, "PG_VERSION")), `${namespace}'s own database`);
    }
    assert.ok(operator.logs.some((l) => l.includes('"level":"warn"') && l.includes(`the embedded database in ${dataDir} holds state from before`)));
    const ready = await (await fetch(`http://127.0.0.1:${await operator.port}/readyz`)).text();
    assert.match(ready, new RegExp(`database: embedded, one per namespace under ${join(dataDir, "namespaces")}`));
  });
});
