// The chart's ValidatingAdmissionPolicy: in the cluster, a ManagementAgent whose CSV path is
// absolute or has a '..' segment is refused at `kubectl apply` (the CRD cannot say so: `idsync
// validate` accepts such paths inside the configuration folder). No API server here runs admission
// policies, so the policy's CEL is evaluated as the API server does: its variables in order, then
// each validation over `object`, `oldObject` and `request`; a false one denies with its message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import { crdFor, type JsonSchema } from "../../src/config/schema.ts";
import { find, renderChart, type K8sObject } from "./render.ts";

const env = celEnv({});
type Activation = Record<string, unknown>;
const evaluate = (expression: string, activation: Activation): unknown => {
  const result = (plan(env, parse(expression)) as unknown as (a: Activation) => unknown)(activation);
  if (isCelError(result)) throw new Error(`${expression}: ${String(result)}`);
  return result;
};

/** The messages of the validations that deny the request; [] admits it. */
function admit(policy: K8sObject, operation: "CREATE" | "UPDATE", object: unknown, oldObject: unknown = null): string[] {
  const variables: Record<string, unknown> = {};
  const activation = { object, oldObject, request: { operation }, variables };
  for (const v of policy.spec.variables ?? []) variables[v.name] = evaluate(v.expression, activation);
  const denied: string[] = [];
  for (const v of policy.spec.validations) {
    if (evaluate(v.expression, activation) === true) continue;
    denied.push(v.messageExpression ? String(evaluate(v.messageExpression, activation)) : v.message);
  }
  return denied;
}

const ma = (connector: Record<string, unknown>) => ({
  apiVersion: "idsync.dev/v1alpha1",
  kind: "ManagementAgent",
  metadata: { name: "hr", namespace: "team-a" },
  spec: { connector, objectTypes: [{ name: "person", anchor: ["id"], attributes: [{ name: "id" }] }] },
});
const csv = (path: string) => ma({ type: "csv", csv: { path } });

const ABSOLUTE = (path: string) =>
  `connector.csv.path '${path}' is an absolute path: in the cluster a CSV path is '<root>/<path inside it>' under one of the operator's CSV roots`;
const DOTDOT = (path: string) =>
  `connector.csv.path '${path}' has a '..' segment: a CSV path may not leave its root; write '<root>/<path inside it>' without '..'`;

describe("the chart's ValidatingAdmissionPolicy for ManagementAgents", () => {
  const { documents } = renderChart();
  const [policy] = find(documents, "ValidatingAdmissionPolicy");
  const [binding] = find(documents, "ValidatingAdmissionPolicyBinding");

  it("is rendered with its binding: ManagementAgent creates and updates, denied, no params and so no RBAC", () => {
    assert.ok(policy && binding, "a ValidatingAdmissionPolicy and its binding");
    assert.equal(policy.apiVersion, "admissionregistration.k8s.io/v1");
    assert.equal(binding.apiVersion, "admissionregistration.k8s.io/v1");
    assert.equal(policy.metadata.name, "idsync-managementagents");
    assert.equal(policy.metadata.namespace, undefined, "cluster-scoped");
    assert.equal(policy.spec.failurePolicy, "Fail");
    assert.deepEqual(policy.spec.matchConstraints.resourceRules, [
      { apiGroups: ["idsync.dev"], apiVersions: ["v1alpha1"], operations: ["CREATE", "UPDATE"], resources: ["managementagents"] },
    ]);
    assert.equal(policy.spec.paramKind, undefined);
    assert.equal(binding.spec.policyName, policy.metadata.name);
    assert.deepEqual(binding.spec.validationActions, ["Deny"]);
    assert.equal(binding.spec.paramRef, undefined);
    assert.equal(binding.spec.matchResources, undefined, "every namespace when the operator watches all");
    for (const v of policy.spec.validations) assert.ok(v.message && v.messageExpression && v.reason === "Invalid", v.expression);
  });

  it("binds only the watched namespace when there is one, and is left out when disabled", () => {
    const scoped = find(renderChart({ values: { watchNamespace: "team-a" } }).documents, "ValidatingAdmissionPolicyBinding")[0];
    assert.deepEqual(scoped.spec.matchResources, { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "team-a" } } });
    const off = renderChart({ values: { admissionPolicy: { enabled: false } } }).documents;
    assert.deepEqual([...find(off, "ValidatingAdmissionPolicy"), ...find(off, "ValidatingAdmissionPolicyBinding")], []);
  });

  it("reads only fields the ManagementAgent CRD declares, and a bounded csv.path", () => {
    const schema = crdFor("ManagementAgent")!.spec.versions[0].schema.openAPIV3Schema;
    const at = (node: JsonSchema, ...names: string[]) => names.reduce<JsonSchema>((n, k) => (n.properties as Record<string, JsonSchema>)[k], node);
    const path = at(schema, "spec", "connector", "csv", "path");
    assert.equal(path.type, "string");
    assert.equal(typeof path.maxLength, "number");
    const text = JSON.stringify(policy.spec);
    assert.deepEqual([...new Set(text.match(/(?:object|oldObject)(?:\.\w+)+/g))].sort(), ["object.spec.connector.csv", "object.spec.connector.csv.path", "oldObject.spec.connector.csv", "oldObject.spec.connector.csv.path"]);
  });

  it("denies an absolute CSV path, POSIX or Windows", () => {
    for (const path of ["/etc/shadow", "/var/lib/idsync/csv/hr/people.csv", "\\\\server\\share\\hr.csv", "C:\\data\\hr.csv", "c:/data/hr.csv"]) {
      assert.deepEqual(admit(policy, "CREATE", csv(path)), [ABSOLUTE(path)], path);
    }
  });

  it("denies a CSV path with a '..' segment", () => {
    for (const path of ["..", "../hr.csv", "hr/../../etc/passwd", "hr/..", "hr\\..\\..\\x.csv", "hr/./../hr.csv"]) {
      assert.deepEqual(admit(policy, "CREATE", csv(path)), [DOTDOT(path)], path);
    }
    assert.deepEqual(admit(policy, "CREATE", csv("/srv/../etc/shadow")), [ABSOLUTE("/srv/../etc/shadow"), DOTDOT("/srv/../etc/shadow")]);
  });

  it("admits a path inside a root, names with dots, and MAs of other connectors", () => {
    for (const path of ["hr/people.csv", "hr/2024/people.csv", "hr/..people.csv", "hr/people..csv", "hr/.../x.csv", "hr/./people.csv", "people.csv"]) {
      assert.deepEqual(admit(policy, "CREATE", csv(path)), [], path);
    }
    assert.deepEqual(admit(policy, "CREATE", ma({ type: "ldap", ldap: { url: "ldaps://dir:636", baseDN: "dc=example,dc=org" } })), []);
  });

  it("judges only a new or changed path on update, so an MA written before the policy can still be updated and deleted", () => {
    assert.deepEqual(admit(policy, "UPDATE", csv("/data/hr.csv"), csv("/data/hr.csv")), [], "finalizer or annotation updates of an old MA");
    assert.deepEqual(admit(policy, "UPDATE", csv("/data/other.csv"), csv("/data/hr.csv")), [ABSOLUTE("/data/other.csv")]);
    assert.deepEqual(admit(policy, "UPDATE", csv("../hr.csv"), ma({ type: "ldap", ldap: { url: "ldaps://dir:636", baseDN: "dc=x" } })), [DOTDOT("../hr.csv")]);
    assert.deepEqual(admit(policy, "UPDATE", csv("hr/people.csv"), csv("/data/hr.csv")), [], "fixing the path is allowed");
  });
});
