// The operator loses its watches — compacted away (410 Gone), reset, or the API server restarts —
// while the declared configuration changes. Every change still reaches the engine.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import {
  annotate,
  apply,
  applyHrToDirectory,
  eventually,
  get,
  hrInboundRule,
  operatorScenario,
  person,
  readCsv,
  remove,
  writeHr,
} from "./helpers.ts";

describe("watch drops", () => {
  const s = operatorScenario("operator_watch_drop", async (cluster) => {
    writeHr(cluster.dir, [person(1), person(2)]);
    await applyHrToDirectory(cluster);
  });

  const target = () => join(s.cluster.dir, "directory.csv");
  const withFlow = (expression: string) => {
    const rule = hrInboundRule();
    rule.spec.attributeFlows[1] = { target: "displayName", expression };
    return rule;
  };

  it("lose no event", async () => {
    await eventually(() => readCsv(target()).length === 2, "the first export");
    await eventually(() => s.cluster.server.openWatches() >= 4, "the operator's watches to be open");

    // 410: history compacted and watches ended; the change lands while the operator reconnects.
    s.cluster.server.compact();
    s.cluster.server.dropWatches({ graceful: true });
    await apply(s.cluster, withFlow("source.sn"));
    await eventually(() => readCsv(target()).every((r) => r.displayName.startsWith("Family")) || undefined, "the change made across a 410");

    // Connection reset.
    s.cluster.server.dropWatches();
    await apply(s.cluster, withFlow("source.givenName"));
    await eventually(() => readCsv(target()).every((r) => r.displayName.startsWith("Given")) || undefined, "the change made across a reset");

    // 410 again, and this time a deletion: it can only reach the operator through the re-list's diff
    // (or the new watch); either way the engine must drop the rule.
    s.cluster.server.compact();
    s.cluster.server.dropWatches({ graceful: true });
    await remove(s.cluster, "SyncRule", "directory-outbound");
    await eventually(
      () => s.operator.logs.some((l) => l.includes('"msg":"configuration applied"') && l.includes('"name":"directory-outbound"') && l.includes('"change":"removed"')) || undefined,
      "the engine to drop the deleted rule",
    );

    // API server restart; then a run requested by annotation is handled once.
    await s.cluster.server.restart();
    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/run": "full-import@after-restart" });
    const hr = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return o?.status?.lastHandledRunRequest === "full-import@after-restart" ? o : undefined;
    }, "the run requested after the restart to be handled");
    assert.equal(hr.status.lastRun.profile, "full-import");
  });
});
