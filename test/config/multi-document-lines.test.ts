import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

test("each document of a multi-document file knows its index and first line", async () => {
  const dir = configDir(
    {
      "all.yaml": `# people from HR
---
apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: hr}
spec:
  connector: {type: csv, csv: {path: hr.csv}}
  objectTypes: [{name: person, anchor: [id], attributes: [{name: id}]}]
---
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
---

# the rule comes after a blank line and a comment
apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: hr-inbound}
spec:
  direction: inbound
  managementAgent: hr
  sourceObjectType: person
  metaverseObjectType: person
  precedence: 1
  attributeFlows:
    - {target: id, expression: source.id}
    - {target: email, expression: source.mail}
`,
    },
    null,
  );
  const result = await loadConfigDirectory(dir);
  const file = join(dir, "all.yaml");
  assert.deepEqual(
    result.resources.map((r) => [r.metadata.name, r.source]),
    [
      ["hr", { file, line: 3, document: 0, root: dir }],
      ["hr-inbound", { file, line: 17, document: 3, root: dir }],
    ],
  );
  // A field error is placed on the field's own line, inside the right document.
  assert.equal(result.errors.length, 1);
  assert.deepEqual(
    [result.errors[0].document, result.errors[0].line, result.errors[0].column, result.errors[0].path],
    [3, 28, 23, "spec.attributeFlows[1].expression"],
  );
});
