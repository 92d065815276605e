// Deleting a ManagementAgent: the finalizer holds it while the operator disconnects its connectors
// per the rules (here: the retention policy deletes people disconnected from HR, so their directory
// accounts are deprovisioned and exported) and clears its connector space; then the MA is gone.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { openEngine } from "../../src/engine/index.ts";
import { openDatabase, schemaForNamespace } from "../../src/store/db.ts";
import {
  NS,
  apply,
  applyHrToDirectory,
  eventually,
  get,
  operatorScenario,
  person,
  personRetention,
  readCsv,
  remove,
  writeHr,
} from "./helpers.ts";

describe("a deleted ManagementAgent", () => {
  const s = operatorScenario("operator_finalizer", async (cluster) => {
    writeHr(cluster.dir, [person(1), person(2)]);
    await applyHrToDirectory(cluster);
    await apply(cluster, personRetention());
  });

  it("is cleaned up before its finalizer is removed", async () => {
    const target = join(s.cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 2, "the accounts to be exported");
    const hr = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return o?.metadata.finalizers?.includes("idsync.dev/cleanup") && o.status?.connectorSpace?.total === 2 ? o : undefined;
    }, "hr to carry the finalizer and hold 2 objects");
    assert.ok(hr);

    await remove(s.cluster, "ManagementAgent", "hr");
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr")) === undefined, "hr to be gone");

    // The namespace's engine: its own schema on the operator's database.
    const engine = await openEngine({ database: await openDatabase({ url: s.db.url, schema: schemaForNamespace(NS) }) });
    try {
      const status = await engine.status("hr");
      assert.equal(status.connectorSpace.total, 0, "hr's connector space is cleared");
      assert.equal(status.pendingExports.adds + status.pendingExports.updates + status.pendingExports.deletes, 0);
    } finally {
      await engine.close();
    }
    // People disconnected from HR were deleted (retention policy), so their accounts were deprovisioned.
    await eventually(() => readCsv(target).length === 0, "the directory accounts to be deleted");

    const cleaned = await s.cluster.core.listNamespacedEvent({ namespace: NS });
    assert.ok(cleaned.items.some((e) => e.involvedObject.name === "hr" && e.reason === "CleanedUp"), "a CleanedUp event");
  });
});
