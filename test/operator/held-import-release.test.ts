// In the operator, an import that the deletion guard holds (an HR file that lost most of its rows)
// shows on the MA's status (Ready=False DeletesBlocked, blockedDeletes, a Warning Event) and keeps
// every identity; `idsync.dev/allow-deletes: "<n>"` releases it by running that import again, once.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { NS, annotate, applyHrToDirectory, condition, eventually, get, operatorScenario, person, readCsv, writeHr } from "./helpers.ts";

describe("a held import", () => {
  const everyone = Array.from({ length: 15 }, (_, i) => person(i + 1));
  const s = operatorScenario("operator_held_import", async (cluster) => {
    writeHr(cluster.dir, everyone);
    // No threshold on hr: the default guards it. The directory's is off: only the import holds.
    await applyHrToDirectory(cluster, { deletionThreshold: {} });
  });

  it("is shown on the MA and released once by the annotation", async () => {
    const target = join(s.cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 15 || undefined, "fifteen accounts exported");

    writeHr(s.cluster.dir, everyone.slice(0, 3));
    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/run": "cycle@1" });
    const held = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return o?.status?.blockedDeletes === 12 && condition(o, "Ready")?.reason === "DeletesBlocked" ? o : undefined;
    }, "the import to be held");
    assert.match(condition(held, "Ready")!.message, /held back 12 deletes.*idsync\.dev\/allow-deletes="12"/);
    assert.equal(readCsv(target).length, 15, "no account deleted");
    const events = await s.cluster.core.listNamespacedEvent({ namespace: NS });
    assert.ok(events.items.some((e) => e.involvedObject.name === "hr" && e.reason === "DeletesBlocked" && /would delete 12 of 15/.test(e.message ?? "")));

    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/allow-deletes": "12" });
    await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return o?.status?.lastHandledAllowDeletes === "12" && o.status.blockedDeletes === 0 && condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "hr released and Ready again");
    // The released import's deletes flow on with the next cycle of the MA.
    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/run": "cycle@2" });
    await annotate(s.cluster, "ManagementAgent", "directory", { "idsync.dev/run": "export@1" });
    await eventually(() => readCsv(target).length === 3 || undefined, "the twelve accounts deprovisioned");
  });
});
