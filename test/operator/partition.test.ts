// Which part of the declared set is applied: the whole set is validated; resources with their own
// errors are InvalidSpec; what depends on an excluded resource is DependencyNotReady — including an
// outbound rule that was only valid thanks to an excluded inbound rule — and the rest is applied.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { partitionDeclared, resourceKey } from "../../src/operator/partition.ts";
import type { AnyResource } from "../../src/config/model.ts";
import { directoryAgent, directoryOutbound, hrAgent, hrInbound, retention } from "../engine/builders.ts";

const inNs = <R extends AnyResource>(r: R, namespace = "team"): R => ({ ...r, metadata: { ...r.metadata, namespace, generation: 3 } });
const names = (rs: AnyResource[]) => rs.map((r) => r.metadata.name).sort();

describe("partitionDeclared", () => {
  it("applies everything when everything is valid, with CRD defaults filled in", () => {
    const declared = [hrAgent("/d"), directoryAgent("/d"), hrInbound(), directoryOutbound(), retention(["hr"])].map((r) => inNs(r));
    const { config, verdicts } = partitionDeclared(declared);
    assert.deepEqual(names(config.managementAgents), ["directory", "hr"]);
    assert.deepEqual(names(config.syncRules), ["directory-outbound", "hr-inbound"]);
    assert.equal(config.retentionPolicies.length, 1);
    assert.ok([...verdicts.values()].every((v) => v.valid && v.reason === "Valid" && v.generation === 3));
    assert.equal(config.managementAgents[0].spec.stagingMode, false, "defaults applied");
    assert.equal((declared[0].spec as { stagingMode?: boolean }).stagingMode, undefined, "the caller's objects are not modified");
  });

  it("leaves out an invalid MA and everything that depends on it, transitively", () => {
    const declared = [
      hrAgent("/d", { filter: 'object.nosuch == "x"' }),
      directoryAgent("/d"),
      hrInbound(),
      directoryOutbound(), // reads mv.* that only hr-inbound flows
      retention(["hr"]),
    ].map((r) => inNs(r));
    const { config, verdicts } = partitionDeclared(declared);
    const v = (kind: string, name: string) => verdicts.get(resourceKey(kind, "team", name))!;

    assert.equal(v("ManagementAgent", "hr").reason, "InvalidSpec");
    assert.match(v("ManagementAgent", "hr").message, /spec\.filter.*nosuch/);
    assert.equal(v("SyncRule", "hr-inbound").reason, "DependencyNotReady");
    assert.match(v("SyncRule", "hr-inbound").message, /ManagementAgent 'hr' is not ready \(InvalidSpec\)/);
    assert.equal(v("RetentionPolicy", "person").reason, "DependencyNotReady");
    assert.equal(v("SyncRule", "directory-outbound").reason, "DependencyNotReady", "its metaverse type lost its only source");
    assert.equal(v("ManagementAgent", "directory").reason, "Valid");
    assert.deepEqual(names(config.managementAgents), ["directory"]);
    assert.deepEqual(config.syncRules, []);
  });

  it("marks a rule with its own error InvalidSpec and still applies its MA", () => {
    const bad = hrInbound({ attributeFlows: [{ target: "employeeId", expression: "source.nosuch" }] });
    const { config, verdicts } = partitionDeclared([hrAgent("/d"), bad].map((r) => inNs(r)));
    assert.equal(verdicts.get(resourceKey("SyncRule", "team", "hr-inbound"))!.reason, "InvalidSpec");
    assert.deepEqual(names(config.managementAgents), ["hr"]);
    assert.deepEqual(config.syncRules, []);
  });

  it("keeps the applied version of a resource whose new spec is invalid, and what depends on it", () => {
    const applied = partitionDeclared([hrAgent("/d"), hrInbound()].map((r) => inNs(r))).config;
    applied.managementAgents[0].metadata.generation = 2;
    const broken = inNs(hrAgent("/d", { filter: 'object.nosuch == "x"' }));
    broken.metadata.generation = 3;
    const { config, verdicts } = partitionDeclared([broken, inNs(hrInbound())], applied);
    const ma = verdicts.get(resourceKey("ManagementAgent", "team", "hr"))!;
    assert.equal(ma.reason, "InvalidSpec");
    assert.equal(ma.appliedGeneration, 2);
    assert.match(ma.message, /generation 2 stays applied/);
    assert.equal(config.managementAgents[0].spec.filter, undefined, "the applied version, not the broken one");
    assert.equal(config.managementAgents[0].metadata.generation, 2);
    assert.equal(verdicts.get(resourceKey("SyncRule", "team", "hr-inbound"))!.reason, "Valid", "its rule stays applied with it");
    assert.deepEqual(names(config.syncRules), ["hr-inbound"]);

    // A resource never applied before has nothing to fall back on; a deleted one is simply gone.
    const fresh = partitionDeclared([inNs(directoryAgent("/d", { filter: "nope(" }))], applied);
    assert.deepEqual(fresh.config.managementAgents, []);
  });

  it("partitions one namespace at a time: the same name in two namespaces is two resources", () => {
    // Each namespace is an engine of its own (the operator partitions them apart): names are unique
    // per namespace, and a set spanning two is a programming error, not a validation error.
    assert.throws(() => partitionDeclared([inNs(hrAgent("/d"), "a"), inNs(hrAgent("/d"), "b")]), /one namespace's resources/);
    for (const ns of ["a", "b"]) {
      const { config, verdicts } = partitionDeclared([inNs(hrAgent("/d"), ns), inNs(hrInbound(), ns)]);
      assert.equal(verdicts.get(resourceKey("ManagementAgent", ns, "hr"))!.reason, "Valid");
      assert.deepEqual(names(config.managementAgents), ["hr"]);
    }
  });

  it("holds back a valid change that would unapply an applied resource", () => {
    const applied = partitionDeclared([hrAgent("/d"), hrInbound()].map((r) => inNs(r))).config;
    // hr drops `department`, which hr-inbound flows: on its own a valid MA, but it breaks the rule.
    const narrowed = hrAgent("/d");
    narrowed.spec.objectTypes[0].attributes = narrowed.spec.objectTypes[0].attributes.filter((a) => a.name !== "department");
    const { config, verdicts } = partitionDeclared([inNs(narrowed), inNs(hrInbound())], applied);
    const ma = verdicts.get(resourceKey("ManagementAgent", "team", "hr"))!;
    assert.equal(ma.reason, "InvalidSpec");
    assert.match(ma.message, /this change would unapply SyncRule 'hr-inbound'.*department/);
    assert.match(ma.message, /stays applied until this is fixed/);
    assert.equal(verdicts.get(resourceKey("SyncRule", "team", "hr-inbound"))!.reason, "Valid");
    assert.deepEqual(names(config.syncRules), ["hr-inbound"], "the rule stays applied");
    assert.ok(config.managementAgents[0].spec.objectTypes[0].attributes.some((a) => a.name === "department"), "with hr's applied version");

    // The same MA change together with the rule's matching change is applied: nothing is lost.
    const flows = (hrInbound().spec.attributeFlows ?? []).filter((f) => !f.expression.includes("department"));
    const both = partitionDeclared([inNs(narrowed), inNs(hrInbound({ attributeFlows: flows }))], applied);
    assert.ok([...both.verdicts.values()].every((v) => v.valid), JSON.stringify([...both.verdicts.values()]));
    assert.ok(!both.config.managementAgents[0].spec.objectTypes[0].attributes.some((a) => a.name === "department"));

    // Deleting is not a change held back: the rule of a deleted MA goes with it.
    assert.deepEqual(partitionDeclared([inNs(hrInbound())], applied).config.syncRules, []);
  });
});
