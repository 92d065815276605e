import { test } from "node:test";
import assert from "node:assert/strict";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

test("a sync rule naming a management agent that does not exist is reported", async () => {
  const dir = configDir({
    "rules/payroll.yaml": `apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: payroll-inbound}
spec:
  direction: inbound
  managementAgent: payroll
  sourceObjectType: employee
  metaverseObjectType: person
  precedence: 30
  attributeFlows:
    - {target: costCenter, expression: source.costCenter}
`,
    "retention.yaml": `apiVersion: idsync.dev/v1alpha1
kind: RetentionPolicy
metadata: {name: people}
spec:
  metaverseObjectType: person
  deleteWhen: {disconnectedFrom: [hr, payrol]}
`,
  });
  const result = await loadConfigDirectory(dir);
  const text = result.errors.map(formatConfigError);
  assert.equal(result.config, undefined);

  const rule = result.errors.find((e) => e.name === "payroll-inbound");
  assert.ok(rule, text.join("\n"));
  assert.equal(rule.path, "spec.managementAgent");
  assert.equal(rule.line, 6);
  assert.equal(rule.message, "no ManagementAgent named 'payroll' (declared: directory, hr)");

  const policy = result.errors.find((e) => e.name === "people");
  assert.ok(policy, text.join("\n"));
  assert.equal(policy.path, "spec.deleteWhen.disconnectedFrom[1]");
  assert.match(policy.message, /no ManagementAgent named 'payrol'/);
  // Only these two: the rule's other fields are not checked against an MA that does not exist.
  assert.equal(result.errors.length, 2, text.join("\n"));
});
