import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

test("every problem in the directory is reported in one run, in file order", async () => {
  const dir = configDir({
    // A YAML syntax error in one file does not stop the others from being checked.
    "broken.yaml": "apiVersion: idsync.dev/v1alpha1\nkind: SyncRule\n  metadata: {name: x}\n",
    "extra.yaml": `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: hr}
spec:
  connector: {type: csv}
  objectTypes:
    - {name: person, anchor: [id], attributes: [{name: id}]}
---
apiVersion: idsync.dev/v1alpha1
kind: Group
metadata: {name: admins}
---
apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: ldap-outbound}
spec:
  direction: outbound
  managementAgent: directory
  metaverseObjectType: person
  targetObjectType: inetOrgPerson
  precedence: 30
  provision: true
  attributeFlows:
    - {target: telephoneNumber, expression: mv.phone}
`,
    "retention.yaml": `apiVersion: idsync.dev/v1alpha1
kind: RetentionPolicy
metadata: {name: people}
spec:
  metaverseObjectType: person
  gracePeriod: 30 days
`,
  });
  const result = await loadConfigDirectory(dir);
  const got = result.errors.map((e) => [e.file?.slice(dir.length + 1), e.line, e.path, e.message.replace(/ \(.*$/, "")]);
  assert.deepEqual(
    got,
    [
      ["broken.yaml", 3, undefined, "YAML syntax error: bad indentation of a mapping entry"],
      ["extra.yaml", 3, "metadata.name", "a ManagementAgent named 'hr' is already declared"],
      ["extra.yaml", 5, "spec.connector.csv", "connector type csv requires connector.csv"],
      ["extra.yaml", 9, "kind", 'unknown kind "Group" in idsync.dev/v1alpha1'],
      // spec.dn is absent: the error points at spec, the nearest field that is there.
      ["extra.yaml", 16, "spec.dn", "provisioning into directory management agent 'directory' needs dn: the CEL expression giving the new object's DN"],
      ["extra.yaml", 24, "spec.attributeFlows[0].target", "object type 'inetOrgPerson' of management agent 'directory' has no attribute 'telephoneNumber'"],
      ["extra.yaml", 24, "spec.attributeFlows[0].expression", "mv has no attribute 'phone'"],
      ["retention.yaml", 6, "spec.gracePeriod", "'30 days' is not a duration such as 30s, 15m, 12h, 30d, 2w or 1h30m"],
    ],
    result.errors.map(formatConfigError).join("\n"),
  );
  // Every error carries the document it is in.
  assert.equal(result.errors.find((e) => e.path === "spec.dn")?.document, 2);
  assert.equal(result.errors[0].file, join(dir, "broken.yaml"));
  assert.equal(result.errors[0].column, 11);
});
