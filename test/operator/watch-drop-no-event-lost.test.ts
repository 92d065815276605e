// The operator loses its watches — compacted away (410 Gone), reset, or the API server restarts —
// while the declared configuration changes. Every change still reaches the engine.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import {
  annotate,
  apply,
  get,
  directoryMa,
  directoryOutboundRule,
  eventually,
  hrInboundRule,
  hrMa,
  person,
  readCsv,
  remove,
  startCluster,
  startOperator,
  writeHr,
  type Cluster,
  type RunningOperator,
} from "./helpers.ts";

describe("watch drops", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let operator: RunningOperator;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_watch_drop");
    writeHr(cluster.dir, [person(1), person(2)]);
    for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir), hrInboundRule(), directoryOutboundRule()]) await apply(cluster, o);
    operator = startOperator(cluster, db.url);
  });
  after(async () => {
    await operator?.stop();
    await db?.drop();
    await cluster?.close();
  });

  const target = () => join(cluster.dir, "directory.csv");
  const withFlow = (expression: string) => {
    const rule = hrInboundRule();
    rule.spec.attributeFlows[1] = { target: "displayName", expression };
    return rule;
  };

  it("lose no event", async () => {
    await eventually(() => readCsv(target()).length === 2, "the first export");
    await eventually(() => cluster.server.openWatches() >= 4, "the operator's watches to be open");

    // 410: history compacted and watches ended; the change lands while the operator reconnects.
    cluster.server.compact();
    cluster.server.dropWatches({ graceful: true });
    await apply(cluster, withFlow("source.sn"));
    await eventually(() => readCsv(target()).every((r) => r.displayName.startsWith("Family")) || undefined, "the change made across a 410");

    // Connection reset.
    cluster.server.dropWatches();
    await apply(cluster, withFlow("source.givenName"));
    await eventually(() => readCsv(target()).every((r) => r.displayName.startsWith("Given")) || undefined, "the change made across a reset");

    // 410 again, and this time a deletion: it can only reach the operator through the re-list's diff
    // (or the new watch); either way the engine must drop the rule.
    cluster.server.compact();
    cluster.server.dropWatches({ graceful: true });
    await remove(cluster, "SyncRule", "directory-outbound");
    await eventually(
      () => operator.logs.some((l) => l.includes('"msg":"configuration applied"') && l.includes('"name":"directory-outbound"') && l.includes('"change":"removed"')) || undefined,
      "the engine to drop the deleted rule",
    );

    // API server restart; then a run requested by annotation is handled once.
    await cluster.server.restart();
    await annotate(cluster, "ManagementAgent", "hr", { "idsync.dev/run": "full-import@after-restart" });
    const hr = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "hr");
      return o?.status?.lastHandledRunRequest === "full-import@after-restart" ? o : undefined;
    }, "the run requested after the restart to be handled");
    assert.equal(hr.status.lastRun.profile, "full-import");
  });
});
