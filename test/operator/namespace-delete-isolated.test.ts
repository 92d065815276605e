// Deleting a ManagementAgent in one namespace cleans up that namespace's engine only. A hostile
// tenant declares an `hr` of its own next to the first namespace's, then deletes it: the finalizer's
// clean-up clears the second namespace's connector space, and the first namespace's connector
// spaces, metaverse and exported accounts stay as they were. (Before, the two `hr`s were one: the
// deletion cleared the first namespace's connector space.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  NS,
  OTHER_NS,
  annotate,
  apply,
  applyHrToDirectory,
  condition,
  createNamespace,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  metaverseCount,
  operatorScenario,
  person,
  personRetention,
  readCsv,
  remove,
  withNamespaceEngine,
  inOtherNamespace,
  writeHrForTwoNamespaces,
} from "./helpers.ts";

describe("deleting an MA in another namespace", () => {
  const s = operatorScenario("operator_ns_delete", async (cluster) => {
    writeHrForTwoNamespaces(cluster.dir, [person(1), person(2), person(3)], [person(1), person(2)]);
    await applyHrToDirectory(cluster);
    await apply(cluster, personRetention());
  });

  it("leaves this namespace's connector spaces and metaverse intact", async () => {
    const accounts = join(s.cluster.dir, "directory.csv");
    await eventually(() => readCsv(accounts).length === 3, "three accounts exported");
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr"))?.status?.connectorSpace?.total === 3, "hr holding 3 objects");

    // The hostile tenant: the same MA name and rule, its own file (the same employee ids, even).
    await createNamespace(s.cluster, OTHER_NS);
    for (const o of [hrMa(s.cluster.dir), hrInboundRule(), personRetention()]) await apply(s.cluster, inOtherNamespace(o));
    await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr", OTHER_NS);
      return condition(o, "Ready")?.status === "True" && o?.status?.connectorSpace?.total === 2 && o.metadata.finalizers?.includes("idsync.dev/cleanup");
    }, "the other namespace's hr imported, with its finalizer");
    await eventually(async () => (await metaverseCount(s.db.url, OTHER_NS)) === 2, "the other namespace's people projected into its own metaverse");

    await remove(s.cluster, "ManagementAgent", "hr", OTHER_NS);
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr", OTHER_NS)) === undefined, "the other namespace's hr to be finalized");
    await withNamespaceEngine(s.db.url, OTHER_NS, async (e) => assert.equal((await e.status("hr")).connectorSpace.total, 0, "its own connector space was cleared"));

    // Nothing of this namespace was touched.
    await withNamespaceEngine(s.db.url, NS, async (e) => {
      const hr = await e.status("hr");
      assert.equal(hr.connectorSpace.total, 3, "hr's connector space is intact");
      assert.equal(hr.connectorSpace.connectors, 3, "and still joined");
      const directory = await e.status("directory");
      assert.equal(directory.connectorSpace.total, 3);
      assert.equal(directory.pendingExports.deletes, 0, "no account is to be deprovisioned");
    });
    assert.equal(await metaverseCount(s.db.url, NS), 3, "the metaverse is intact");
    const hr = await get(s.cluster, "ManagementAgent", "hr");
    assert.equal(condition(hr, "Ready")!.status, "True");
    assert.equal(hr!.status.connectorSpace.total, 3);
    assert.equal(readCsv(accounts).length, 3, "every account is still there");

    // The other namespace's last resources go: its engine is closed; this namespace's keeps running.
    await remove(s.cluster, "SyncRule", "hr-inbound", OTHER_NS);
    await remove(s.cluster, "RetentionPolicy", "person", OTHER_NS);
    await eventually(
      () => s.operator.logs.some((l) => l.includes("namespace has no idsync resources left: engine closed") && l.includes(`"namespace":"${OTHER_NS}"`)),
      "the other namespace's engine to be closed",
    );
    assert.ok(!s.operator.logs.some((l) => l.includes("engine closed") && l.includes(`"namespace":"${NS}"`)));
    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/run": "delta-import@still-running" });
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr"))?.status?.lastHandledRunRequest === "delta-import@still-running", "a run in this namespace");
  });
});
