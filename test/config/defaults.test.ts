import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

test("the CRDs' defaults are applied to what was left out, as the API server would", async () => {
  const dir = configDir(
    {
      "all.yaml": `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: hr}
spec:
  connector: {type: csv, csv: {path: hr.csv}}
  objectTypes:
    - {name: person, anchor: [id], attributes: [{name: id}, {name: age, type: integer}]}
---
apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: hr-inbound}
spec: {direction: inbound, managementAgent: hr, sourceObjectType: person, metaverseObjectType: person, precedence: 1,
       attributeFlows: [{target: id, expression: source.id}]}
---
apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: hr-outbound}
spec: {direction: outbound, managementAgent: hr, targetObjectType: person, metaverseObjectType: person, precedence: 1,
       attributeFlows: [{target: id, expression: mv.id}]}
---
apiVersion: idsync.dev/v1alpha1
kind: RetentionPolicy
metadata: {name: people}
spec: {metaverseObjectType: person}
`,
    },
    null,
  );
  const { config, errors } = await loadConfigDirectory(dir);
  assert.deepEqual(errors, []);
  assert.ok(config);
  const [ma] = config.managementAgents;
  assert.equal(ma.spec.stagingMode, false);
  assert.deepEqual(ma.spec.connector.csv, { path: "hr.csv", delimiter: ",", multiValueSeparator: ";" });
  assert.deepEqual(ma.spec.objectTypes[0].attributes, [
    { name: "id", type: "string", multiValued: false },
    { name: "age", type: "integer", multiValued: false },
  ]);
  const [inbound, outbound] = config.syncRules;
  assert.equal(inbound.spec.projection, false);
  assert.equal(outbound.spec.provision, false);
  assert.equal(outbound.spec.deprovision, "disconnect");
  assert.equal(outbound.spec.attributeFlows?.[0].initialOnly, false);
  const [policy] = config.retentionPolicies;
  assert.equal(policy.spec.gracePeriod, "30d");
  // runHistory defaults to {} so that its own default applies.
  assert.deepEqual(policy.spec.runHistory, { keep: "90d" });
  assert.equal(policy.spec.deleteWhen, undefined);
});
