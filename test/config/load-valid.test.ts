import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatConfigError, inferMetaverseSchema, loadConfigDirectory } from "../../src/config/index.ts";
import { VALID } from "./helpers.ts";

test("the example configuration loads without errors and skips non-idsync documents", async () => {
  const result = await loadConfigDirectory(VALID);
  assert.deepEqual(result.errors.map(formatConfigError), []);
  assert.ok(result.config);
  assert.deepEqual(result.config.managementAgents.map((m) => m.metadata.name), ["hr", "directory"]);
  // Files are read sorted by path: agents.yaml, kustomization.yaml, retention.yaml, rules/directory.yaml, rules/hr.yaml.
  assert.deepEqual(result.config.syncRules.map((r) => r.metadata.name), ["directory-inbound", "directory-outbound", "hr-inbound"]);
  assert.deepEqual(result.config.retentionPolicies.map((r) => r.metadata.name), ["people"]);
  // The Kustomization and the Secret are not idsync resources.
  assert.equal(result.resources.length, 6);
  // root: the configuration folder the file was read from (what a CSV path may not leave).
  assert.deepEqual(result.config.syncRules[2].source, { file: join(VALID, "rules/hr.yaml"), line: 1, document: 0, root: VALID });

  const mv = inferMetaverseSchema(result.config);
  const person = mv.get("person");
  assert.ok(person);
  assert.deepEqual([...person.keys()].sort(), ["accountName", "displayName", "employeeId", "givenName", "mail", "manager", "sn"]);
  assert.deepEqual(person.get("manager"), { type: "reference", referenceTo: "person" });
  assert.deepEqual(person.get("employeeId"), { type: "string" });
});
