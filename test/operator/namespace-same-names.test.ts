// Each namespace is an engine of its own. A second namespace — a hostile tenant — declares the very
// same names (hr, directory, hr-inbound, directory-outbound, person): both sets are valid, and each
// namespace imports its own file into its own connector spaces and metaverse, and provisions only
// its own people. (Before, one name in two namespaces marked both invalid and unapplied the first.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  NS,
  OTHER_NS,
  apply,
  applyHrToDirectory,
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
  personRetention,
  readCsv,
  inOtherNamespace,
  writeHrForTwoNamespaces,
} from "./helpers.ts";

const RESOURCES = [
  ["ManagementAgent", "hr"],
  ["ManagementAgent", "directory"],
  ["SyncRule", "hr-inbound"],
  ["SyncRule", "directory-outbound"],
  ["RetentionPolicy", "person"],
] as const;

describe("the same names in two namespaces", () => {
  const s = operatorScenario("operator_ns_same_names", async (cluster) => {
    writeHrForTwoNamespaces(cluster.dir, [person(1), person(2), person(3)], [person(7), person(8)]);
    await applyHrToDirectory(cluster);
    await apply(cluster, personRetention());
    await createNamespace(cluster, OTHER_NS);
    for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir), hrInboundRule(), directoryOutboundRule(), personRetention()]) {
      await apply(cluster, inOtherNamespace(o));
    }
  });

  it("are valid side by side, and each namespace syncs its own people", async () => {
    for (const [namespace, total] of [[NS, 3], [OTHER_NS, 2]] as const) {
      await eventually(async () => {
        const o = await get(s.cluster, "ManagementAgent", "hr", namespace);
        return condition(o, "Ready")?.status === "True" && o?.status?.connectorSpace?.total === total;
      }, `${namespace}/hr Ready, holding its own ${total} people`);
      for (const [kind, name] of RESOURCES) {
        const o = await eventually(async () => {
          const x = await get(s.cluster, kind, name, namespace);
          return condition(x, "Ready")?.status === "True" ? x : undefined;
        }, `${kind} ${namespace}/${name} Ready`);
        assert.equal(condition(o, "Stalled")!.status, "False");
      }
    }
    const ids = (file: string) => readCsv(file).map((r) => r.employeeId).sort();
    const mine = join(s.cluster.dir, "directory.csv");
    const theirs = join(s.cluster.dir, "other", "directory.csv");
    await eventually(() => ids(mine).length === 3 && ids(theirs).length === 2, "each directory to receive its namespace's accounts");
    assert.deepEqual(ids(mine), ["E0001", "E0002", "E0003"]);
    assert.deepEqual(ids(theirs), ["E0007", "E0008"]);
    assert.equal(await metaverseCount(s.db.url, NS), 3, "the first namespace's metaverse");
    assert.equal(await metaverseCount(s.db.url, OTHER_NS), 2, "the second namespace's metaverse");
    const directory = await get(s.cluster, "ManagementAgent", "directory", OTHER_NS);
    assert.equal(directory?.status?.connectorSpace?.total, 2, "the second namespace's directory holds its two accounts only");
  });
});
