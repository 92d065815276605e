import { test } from "node:test";
import assert from "node:assert/strict";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

test("an expression reading an undeclared attribute is reported at its field", async () => {
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
  projection: true
  attributeFlows:
    - {target: employeeId, expression: source.employeeId}
    - {target: displayName, expression: 'source.givenName + " " + source.sm'}
    - {target: sn, expression: source.sn}
`,
    // Outbound: mv.nickname is flowed by no inbound rule, so it is not a metaverse attribute.
    "rules/directory.yaml": `apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: directory-outbound}
spec:
  direction: outbound
  managementAgent: directory
  metaverseObjectType: person
  targetObjectType: inetOrgPerson
  precedence: 10
  attributeFlows:
    - {target: cn, expression: mv.nickname}
`,
    // A filter reads object.*: only attributes of the MA's object types exist.
    "agents.yaml": `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: hr}
spec:
  connector: {type: csv, csv: {path: data/hr.csv}}
  objectTypes:
    - {name: person, anchor: [employeeId], attributes: [{name: employeeId}, {name: givenName}, {name: sn}, {name: status}]}
  filter: object.state == "pending"
---
apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: directory}
spec:
  connector: {type: csv, csv: {path: data/directory.csv}}
  objectTypes:
    - {name: inetOrgPerson, anchor: [uid], attributes: [{name: uid}, {name: cn}]}
`,
    "retention.yaml": "",
  });
  const result = await loadConfigDirectory(dir);
  const text = result.errors.map(formatConfigError);
  const flow = result.errors.find((e) => e.name === "hr-inbound");
  assert.ok(flow, text.join("\n"));
  assert.equal(flow.path, "spec.attributeFlows[1].expression");
  assert.equal(flow.line, 13);
  assert.match(flow.message, /^source has no attribute 'sm'/);

  const outbound = result.errors.find((e) => e.name === "directory-outbound");
  assert.ok(outbound, text.join("\n"));
  assert.equal(outbound.path, "spec.attributeFlows[0].expression");
  assert.match(outbound.message, /^mv has no attribute 'nickname'/);

  const filter = result.errors.find((e) => e.name === "hr" && e.path === "spec.filter");
  assert.ok(filter, text.join("\n"));
  assert.equal(filter.line, 8);
  assert.match(filter.message, /^object has no attribute 'state'/);
  assert.equal(result.errors.length, 3, text.join("\n"));
});
