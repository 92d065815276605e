// An invalid change never unapplies what is applied — neither in its own namespace nor in another.
//  1. A hostile tenant declares an `hr` of its own, then breaks it: its own last good hr stays
//     applied, and nothing of the first namespace moves (before, one `hr` in two namespaces marked
//     both invalid and unapplied the first namespace's MA, rules and policy).
//  2. The first namespace changes hr in a way that is valid on its own but breaks its applied rule
//     (hr no longer declares `department`, which hr-inbound flows): the change is held back and
//     reported on hr; hr-inbound and directory-outbound stay applied, a full sync disconnects no
//     one and deprovisions no account (before, the rules were unapplied).
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
  directoryMa,
  directoryOutboundRule,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  operatorScenario,
  person,
  readCsv,
  type Cluster,
  type Obj,
  inOtherNamespace,
  writeHrForTwoNamespaces,
} from "./helpers.ts";

const RESOURCES = [
  ["ManagementAgent", "hr"],
  ["ManagementAgent", "directory"],
  ["SyncRule", "hr-inbound"],
  ["SyncRule", "directory-outbound"],
] as const;

const theirs = (o: Obj) => inOtherNamespace(o);

/** Every resource's Ready condition and generation, to compare before and after. */
async function snapshot(cluster: Cluster, namespace: string): Promise<string[]> {
  const out: string[] = [];
  for (const [kind, name] of RESOURCES) {
    const o = await get(cluster, kind, name, namespace);
    const ready = condition(o, "Ready");
    out.push(`${kind}/${name} gen ${o?.metadata.generation} ${ready?.status} ${ready?.reason} observed ${ready?.observedGeneration}`);
  }
  return out;
}

async function allReady(cluster: Cluster, namespace: string): Promise<void> {
  for (const [kind, name] of RESOURCES) {
    await eventually(async () => condition(await get(cluster, kind, name, namespace), "Ready")?.status === "True", `${kind} ${namespace}/${name} Ready`);
  }
}

describe("an invalid change", () => {
  const s = operatorScenario("operator_ns_invalid_change", async (cluster) => {
    writeHrForTwoNamespaces(cluster.dir, [person(1), person(2), person(3)], [person(7), person(8)]);
    await applyHrToDirectory(cluster);
    await createNamespace(cluster, OTHER_NS);
    for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir), hrInboundRule(), directoryOutboundRule()]) await apply(cluster, theirs(o));
  });
  const mine = () => join(s.cluster.dir, "directory.csv");
  const other = () => join(s.cluster.dir, "other", "directory.csv");

  it("in another namespace leaves this one applied, and its own last good version too", async () => {
    await allReady(s.cluster, NS);
    await allReady(s.cluster, OTHER_NS);
    await eventually(() => readCsv(mine()).length === 3 && readCsv(other()).length === 2, "both namespaces exported");
    const before = await snapshot(s.cluster, NS);

    const applied = (await get(s.cluster, "ManagementAgent", "hr", OTHER_NS))!;
    await apply(s.cluster, theirs(hrMa(s.cluster.dir, { filter: 'object.nosuch == "x"' })));
    const broken = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr", OTHER_NS);
      return condition(o, "Ready")?.reason === "InvalidSpec" ? o : undefined;
    }, "the other namespace's hr InvalidSpec");
    assert.match(condition(broken, "Ready")!.message, new RegExp(`generation ${applied.metadata.generation} stays applied`));
    await eventually(async () => condition(await get(s.cluster, "SyncRule", "hr-inbound", OTHER_NS), "Ready")?.status === "True", "its rule still applied");

    // A full sync in the other namespace keeps its people joined: its hr's last good version runs.
    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/run": "full-sync@after-break" }, OTHER_NS);
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr", OTHER_NS))?.status?.lastHandledRunRequest === "full-sync@after-break", "the full sync to run");
    assert.equal((await get(s.cluster, "ManagementAgent", "hr", OTHER_NS))!.status.connectorSpace.connectors, 2);

    assert.deepEqual(await snapshot(s.cluster, NS), before, "nothing of this namespace moved");
    assert.equal(readCsv(mine()).length, 3);
    assert.equal(readCsv(other()).length, 2);
  });

  it("that breaks an applied rule is held back, and unapplies nothing", async () => {
    const otherBefore = await snapshot(s.cluster, OTHER_NS);
    const applied = (await get(s.cluster, "ManagementAgent", "hr"))!;
    const narrowed = hrMa(s.cluster.dir);
    narrowed.spec.objectTypes[0].attributes = narrowed.spec.objectTypes[0].attributes.filter((a: { name: string }) => a.name !== "department");
    await apply(s.cluster, narrowed);
    const held = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return condition(o, "Ready")?.reason === "InvalidSpec" ? o : undefined;
    }, "hr's change to be held back");
    const message = condition(held, "Ready")!.message;
    assert.match(message, /this change would unapply SyncRule 'hr-inbound'/);
    assert.match(message, new RegExp(`generation ${applied.metadata.generation} stays applied`));
    for (const name of ["hr-inbound", "directory-outbound"]) {
      const rule = await get(s.cluster, "SyncRule", name);
      assert.equal(condition(rule, "Ready")!.status, "True", `${name} stays applied`);
    }

    // Had the rules been unapplied, this full sync would disconnect everybody and deprovision accounts.
    await annotate(s.cluster, "ManagementAgent", "hr", { "idsync.dev/run": "full-sync@held" });
    const hr = await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "hr");
      return o?.status?.lastHandledRunRequest === "full-sync@held" ? o : undefined;
    }, "the full sync to run");
    assert.equal(hr.status.lastRun.profile, "full-sync");
    assert.equal(hr.status.connectorSpace.connectors, 3, "still joined");
    const directory = await get(s.cluster, "ManagementAgent", "directory");
    assert.equal(directory!.status.pendingExports.deletes, 0, "no account to deprovision");
    assert.equal(readCsv(mine()).length, 3);

    assert.deepEqual(await snapshot(s.cluster, OTHER_NS), otherBefore, "nothing of the other namespace moved");
    assert.equal(readCsv(other()).length, 2);
  });
});
