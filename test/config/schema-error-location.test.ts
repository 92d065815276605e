import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

test("a schema error names the file, the line and column of the field, and its path", async () => {
  const dir = configDir({
    "rules/hr.yaml": `apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: hr-inbound}
spec:
  direction: inbound
  managementAgent: hr
  sourceObjectType: person
  metaverseObjectType: person
  precedence: 10
  attributeFlows:
    - {target: employeeId, expression: source.employeeId}
    - target: sn
      expresion: source.sn
  deprovision: shred
`,
  });
  const result = await loadConfigDirectory(dir);
  assert.equal(result.config, undefined);
  const file = join(dir, "rules/hr.yaml");
  const byPath = new Map(result.errors.map((e) => [e.path, e]));

  const missing = byPath.get("spec.attributeFlows[1].expression");
  assert.ok(missing, result.errors.map(formatConfigError).join("\n"));
  assert.equal(missing.file, file);
  assert.equal(missing.kind, "SyncRule");
  assert.equal(missing.name, "hr-inbound");
  assert.equal(missing.message, "is required");
  assert.equal(missing.line, 12); // the item the field is missing from: `- target: sn`

  const unknown = byPath.get("spec.attributeFlows[1].expresion");
  assert.ok(unknown);
  assert.deepEqual([unknown.line, unknown.column], [13, 7]);
  assert.match(unknown.message, /unknown field 'expresion'/);

  const badEnum = byPath.get("spec.deprovision");
  assert.ok(badEnum);
  assert.deepEqual([badEnum.line, badEnum.column], [14, 3]);
  assert.equal(formatConfigError(badEnum), `${file}:14:3: SyncRule/hr-inbound spec.deprovision: 'shred' is not one of: delete, disconnect, disable`);
});
