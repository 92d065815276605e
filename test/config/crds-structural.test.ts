// The CRDs must be accepted by a real API server: structural schemas (every node typed, properties
// and additionalProperties never together, no type/default inside allOf/anyOf/oneOf/not, metadata
// left alone), defaults that validate against their own node, list-map keys that are required, the
// status subresource and the printer columns `kubectl get` shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { crdFor, loadCrds, type JsonSchema } from "../../src/config/schema.ts";

type Node = JsonSchema;

/** Every schema node with its path, depth first. */
function* nodes(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [k, v] of Object.entries((node.properties as Record<string, Node>) ?? {})) yield* nodes(v, `${path}.${k}`);
  if (node.items && typeof node.items === "object" && !Array.isArray(node.items)) yield* nodes(node.items as Node, `${path}[]`);
  if (node.additionalProperties && typeof node.additionalProperties === "object") yield* nodes(node.additionalProperties as Node, `${path}{}`);
}

const FORBIDDEN_IN_JUNCTORS = ["type", "default", "description", "nullable", "additionalProperties", "x-kubernetes-preserve-unknown-fields"];

test("the three CRDs are structural and their defaults validate", () => {
  const crds = loadCrds();
  assert.deepEqual([...crds.keys()].sort(), ["ManagementAgent", "RetentionPolicy", "SyncRule"]);
  const ajv = new Ajv({ strict: false });
  addFormatsModule.default(ajv);
  for (const [kind, crd] of crds) {
    assert.equal(crd.apiVersion, "apiextensions.k8s.io/v1");
    assert.equal(crd.spec.group, "idsync.dev");
    assert.equal(crd.spec.scope, "Namespaced");
    assert.equal(crd.metadata.name, `${crd.spec.names.plural}.idsync.dev`);
    assert.deepEqual(crd.spec.names.categories, ["idsync"]);
    assert.equal(crd.spec.versions.length, 1);
    const [version] = crd.spec.versions;
    assert.deepEqual([version.name, version.served, version.storage], ["v1alpha1", true, true]);
    const root = version.schema.openAPIV3Schema;
    assert.deepEqual((root.properties as Record<string, Node>).metadata, { type: "object" }, `${kind}: metadata must not be constrained`);

    for (const [path, node] of nodes(root, kind)) {
      const where = `${path} in ${kind}`;
      const typed = typeof node.type === "string" || node["x-kubernetes-int-or-string"] === true || (node["x-kubernetes-preserve-unknown-fields"] === true && !node.properties);
      assert.ok(typed, `${where} has no type`);
      assert.ok(!(node.properties && node.additionalProperties !== undefined), `${where} has both properties and additionalProperties`);
      assert.ok(!("$ref" in node), `${where} uses $ref`);
      // Users read these in `kubectl explain`: every spec field says what it is for.
      if (path.startsWith(`${kind}.spec`) && !path.endsWith("[]")) assert.ok(typeof node.description === "string", `${where} has no description`);
      if (node.type === "array") assert.ok(node.items && !Array.isArray(node.items), `${where}: an array needs one items schema`);
      for (const junctor of ["allOf", "anyOf", "oneOf", "not"]) {
        const parts = junctor === "not" ? [node.not] : ((node[junctor] as Node[] | undefined) ?? []);
        for (const part of parts.filter(Boolean) as Node[]) {
          for (const f of FORBIDDEN_IN_JUNCTORS) assert.ok(!(f in part), `${where}: ${junctor} may not set ${f}`);
        }
      }
      if (node.default !== undefined) {
        const { default: value, ...schema } = node;
        assert.ok(ajv.validate(schema, value), `${where}: default ${JSON.stringify(value)} does not validate: ${ajv.errorsText()}`);
      }
      if (node["x-kubernetes-list-type"] === "map") {
        const item = node.items as Node;
        for (const key of node["x-kubernetes-list-map-keys"] as string[]) {
          const required = ((item.required as string[]) ?? []).includes(key) || (item.properties as Record<string, Node>)[key]?.default !== undefined;
          assert.ok(required, `${where}: list-map key ${key} must be required or defaulted`);
        }
      }
      for (const rule of (node["x-kubernetes-validations"] as Array<{ rule: string; message?: string }> | undefined) ?? []) {
        assert.ok(rule.message, `${where}: rule ${rule.rule} has no message`);
      }
    }
  }
});

test("every CRD has the status subresource, a typed condition list and printer columns", () => {
  const columns = (kind: string) => {
    const [version] = crdFor(kind)!.spec.versions;
    assert.deepEqual(version.subresources, { status: {} }, `${kind} status subresource`);
    const status = (version.schema.openAPIV3Schema.properties as Record<string, Node>).status;
    assert.equal(status["x-kubernetes-preserve-unknown-fields"], true);
    const condition = ((status.properties as Record<string, Node>).conditions.items as Node).properties as Record<string, Node>;
    assert.deepEqual(Object.keys(condition).sort(), ["lastTransitionTime", "message", "observedGeneration", "reason", "status", "type"]);
    assert.equal(condition.lastTransitionTime.format, "date-time");
    assert.equal(condition.observedGeneration.type, "integer");
    return new Map((version.additionalPrinterColumns ?? []).map((c) => [c.name, c]));
  };
  const shortNames = (kind: string) => crdFor(kind)!.spec.names.shortNames;

  const ma = columns("ManagementAgent");
  assert.equal(ma.get("Type")?.jsonPath, ".spec.connector.type");
  assert.equal(ma.get("Last Run")?.jsonPath, ".status.lastRun.finishedAt");
  assert.equal(ma.get("Result")?.jsonPath, ".status.lastRun.result");
  assert.deepEqual(shortNames("ManagementAgent"), ["ma"]);

  const sr = columns("SyncRule");
  assert.equal(sr.get("Direction")?.jsonPath, ".spec.direction");
  assert.equal(sr.get("MA")?.jsonPath, ".spec.managementAgent");
  assert.deepEqual([sr.get("Precedence")?.jsonPath, sr.get("Precedence")?.type], [".spec.precedence", "integer"]);
  assert.deepEqual(shortNames("SyncRule"), ["sr"]);

  columns("RetentionPolicy");
  assert.deepEqual(shortNames("RetentionPolicy"), ["rp"]);

  for (const kind of ["ManagementAgent", "SyncRule", "RetentionPolicy"]) {
    const c = columns(kind);
    assert.equal(c.get("Ready")?.jsonPath, '.status.conditions[?(@.type=="Ready")].status', kind);
    assert.deepEqual([c.get("Age")?.jsonPath, c.get("Age")?.type], [".metadata.creationTimestamp", "date"], kind);
  }
});

test("the connector filter's description says that matching objects are filtered out", () => {
  const spec = ((crdFor("ManagementAgent")!.spec.versions[0].schema.openAPIV3Schema.properties as Record<string, Node>).spec.properties as Record<string, Node>);
  assert.match(String(spec.filter.description), /TRUE is filtered OUT/);
});
