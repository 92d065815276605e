// An outbound rule provisions the people of its own namespace's metaverse, never another's. The
// first namespace projects three people from HR; a hostile tenant declares a source of its own (one
// person) and a directory with a provisioning outbound rule: its directory receives its one person,
// and none of the first namespace's. (Before, there was one metaverse: the tenant's rule
// provisioned everybody.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  NS,
  OTHER_NS,
  apply,
  condition,
  createNamespace,
  directoryMa,
  directoryOutboundRule,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  metaverseCount,
  operatorScenario,
  person,
  readCsv,
  inOtherNamespace,
  writeHrForTwoNamespaces,
} from "./helpers.ts";

const theirs = inOtherNamespace;

describe("an outbound rule in another namespace", () => {
  const s = operatorScenario("operator_ns_outbound", async (cluster) => {
    writeHrForTwoNamespaces(cluster.dir, [person(1), person(2), person(3)], [person(9)]);
    // This namespace: HR projected into the metaverse, no target at all.
    await apply(cluster, hrMa(cluster.dir));
    await apply(cluster, hrInboundRule());
    await createNamespace(cluster, OTHER_NS);
    await apply(cluster, theirs(hrMa(cluster.dir), "staff"));
    // Precedence 20: in one shared engine (as before) both sets would have been valid together.
    const staffInbound = theirs(hrInboundRule(), "staff-inbound", "staff");
    staffInbound.spec.precedence = 20;
    await apply(cluster, staffInbound);
    await apply(cluster, theirs(directoryMa(cluster.dir), "accounts"));
    await apply(cluster, theirs(directoryOutboundRule(), "accounts-outbound", "accounts"));
  });

  it("provisions its own namespace's people only", async () => {
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr"))?.status?.connectorSpace?.connectors === 3, "hr's three people joined");
    const accounts = join(s.cluster.dir, "other", "directory.csv");
    const settled = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "accounts", OTHER_NS);
      const pending = o?.status?.pendingExports;
      return condition(o, "Ready")?.status === "True" && o?.status?.lastRun?.profile === "export" && pending && pending.adds + pending.updates + pending.deletes === 0 ? o : undefined;
    }, "the other namespace's directory exported, nothing pending");
    assert.deepEqual(readCsv(accounts).map((r) => r.employeeId), ["E0009"], "its own person, no one else");
    assert.equal(settled.status.connectorSpace.total, 1);
    assert.equal(await metaverseCount(s.db.url, NS), 3);
    assert.equal(await metaverseCount(s.db.url, OTHER_NS), 1);
    for (const [kind, name] of [["ManagementAgent", "staff"], ["SyncRule", "staff-inbound"], ["SyncRule", "accounts-outbound"]] as const) {
      assert.equal(condition(await get(s.cluster, kind, name, OTHER_NS), "Ready")?.status, "True", `${kind} ${name}`);
    }
  });
});
