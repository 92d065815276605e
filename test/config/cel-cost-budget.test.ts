// An expression whose estimated cost exceeds the budget is a configuration error at its field, in
// the loader and through `idsync validate`; a realistic comprehension beside it is fine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/idsync.js", import.meta.url));
const HOSTILE = "source.memberOf.map(a, source.memberOf.map(b, source.memberOf.map(c, a + b + c)))";

function files(): Record<string, string> {
  return {
    "agents.yaml": `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: hr}
spec:
  connector: {type: csv, csv: {path: data/hr.csv}}
  objectTypes:
    - name: person
      anchor: [employeeId]
      attributes: [{name: employeeId}, {name: givenName}, {name: sn}, {name: status}, {name: memberOf, multiValued: true}]
---
apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: directory}
spec:
  connector: {type: csv, csv: {path: data/directory.csv}}
  objectTypes:
    - {name: inetOrgPerson, anchor: [uid], attributes: [{name: uid}, {name: cn}]}
`,
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
    - {target: groups, expression: 'source.memberOf.filter(g, g.startsWith("cn="))'}
    - {target: combinations, expression: '${HOSTILE}'}
`,
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
    - {target: cn, expression: mv.employeeId}
`,
    "retention.yaml": "",
  };
}

test("an expression over the cost budget is a config error at its field; a realistic one is not", async () => {
  const dir = configDir(files());
  const result = await loadConfigDirectory(dir);
  const text = result.errors.map(formatConfigError).join("\n");
  assert.equal(result.errors.length, 1, text);
  const [error] = result.errors;
  assert.equal(error.name, "hr-inbound");
  assert.equal(error.path, "spec.attributeFlows[2].expression");
  assert.equal(error.line, 14);
  assert.match(error.message, /^too expensive: estimated cost [\d,]+ exceeds the budget of 1,000,000/);
  assert.match(error.message, /nested comprehensions over source\.memberOf \(10,000 values\) × source\.memberOf \(10,000 values\) × source\.memberOf/);
});

test("idsync validate reports the expensive expression and exits 1", async () => {
  const dir = configDir(files());
  const run = await promisify(execFile)(process.execPath, [BIN, "validate", "-f", dir], { env: { ...process.env, IDSYNC_DATABASE_URL: "" } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
  assert.equal(run.code, 1, run.stdout);
  assert.match(run.stdout, /rules\/hr\.yaml:14:\d+: SyncRule\/hr-inbound spec\.attributeFlows\[2\]\.expression: too expensive: estimated cost/);
  assert.match(run.stdout, /1 error\(s\) in /);
});
