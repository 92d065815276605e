import { test } from "node:test";
import assert from "node:assert/strict";
import { formatConfigError } from "../../src/config/index.ts";

test("an error prints as file:line:column: Kind/name path: message, leaving out what is unknown", () => {
  assert.equal(
    formatConfigError({
      file: "examples/x/rules.yaml",
      line: 12,
      column: 7,
      document: 1,
      kind: "SyncRule",
      name: "hr-inbound",
      path: "spec.attributeFlows[1].expression",
      message: "source has no attribute 'sm'",
    }),
    "examples/x/rules.yaml:12:7: SyncRule/hr-inbound spec.attributeFlows[1].expression: source has no attribute 'sm'",
  );
  assert.equal(formatConfigError({ file: "a.yaml", line: 3, message: "YAML syntax error: x" }), "a.yaml:3: YAML syntax error: x");
  assert.equal(formatConfigError({ kind: "ManagementAgent", name: "hr", path: "spec.filter", message: "m" }), "ManagementAgent/hr spec.filter: m");
  assert.equal(formatConfigError({ message: "no configuration" }), "no configuration");
});
