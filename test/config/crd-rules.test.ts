// The CRDs' x-kubernetes-validations (CEL) and list-type rules are enforced locally too, so
// `idsync validate` rejects what the API server would. Resources are built in memory, as the
// operator gets them from the Kubernetes API: errors then carry kind, name and path but no file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatConfigError, validateResources, type AnyResource, type ManagementAgent, type SyncRule } from "../../src/config/index.ts";

const ma = (spec: Partial<ManagementAgent["spec"]> = {}): ManagementAgent => ({
  apiVersion: "idsync.dev/v1alpha1",
  kind: "ManagementAgent",
  metadata: { name: "hr", namespace: "idsync" },
  spec: {
    connector: { type: "csv", csv: { path: "hr.csv" } },
    objectTypes: [{ name: "person", anchor: ["id"], attributes: [{ name: "id" }, { name: "mail" }] }],
    ...spec,
  },
});

const rule = (name: string, spec: Partial<SyncRule["spec"]>): SyncRule => ({
  apiVersion: "idsync.dev/v1alpha1",
  kind: "SyncRule",
  metadata: { name, namespace: "idsync" },
  spec: { direction: "inbound", managementAgent: "hr", metaverseObjectType: "person", precedence: 1, sourceObjectType: "person", ...spec },
});

function problems(resources: AnyResource[]): string[] {
  return validateResources(resources).errors.map(formatConfigError);
}

test("CEL validation rules of the CRDs are evaluated", () => {
  assert.deepEqual(
    problems([
      ma({ schedule: [{ profile: "cycle" }, { profile: "export", every: "1h", cron: "0 * * * *" }] }),
      rule("no-source", { sourceObjectType: undefined, attributeFlows: [{ target: "id", expression: "source.id" }] }),
      rule("no-target", { direction: "outbound", sourceObjectType: undefined }),
      rule("flows-without-disable", {
        direction: "outbound",
        sourceObjectType: undefined,
        targetObjectType: "person",
        deprovision: "delete",
        deprovisionFlows: [{ target: "mail", expression: '"disabled"' }],
      }),
    ]),
    [
      "ManagementAgent/hr spec.schedule[0]: a schedule entry needs exactly one of every and cron",
      "ManagementAgent/hr spec.schedule[1]: a schedule entry needs exactly one of every and cron",
      "SyncRule/no-source spec.sourceObjectType: an inbound rule needs sourceObjectType",
      "SyncRule/no-target spec.targetObjectType: an outbound rule needs targetObjectType",
      "SyncRule/flows-without-disable spec.deprovisionFlows: deprovisionFlows is only allowed on an outbound rule with deprovision: disable",
    ],
  );
});

test("the same rules accept a valid configuration, and duplicates in keyed lists are rejected", () => {
  const valid = [
    ma(),
    rule("in", { attributeFlows: [{ target: "id", expression: "source.id" }, { target: "mail", expression: "source.mail" }] }),
    rule("out", {
      direction: "outbound",
      sourceObjectType: undefined,
      targetObjectType: "person",
      deprovision: "disable",
      deprovisionFlows: [{ target: "mail", expression: '"disabled@example.org"' }],
    }),
  ];
  const result = validateResources(valid);
  assert.deepEqual(result.errors, []);
  assert.equal(result.config?.syncRules.length, 2);

  const duplicate = ma({
    objectTypes: [{ name: "person", anchor: ["id"], attributes: [{ name: "id" }, { name: "id", type: "integer" }] }],
  });
  assert.deepEqual(problems([duplicate]), ['ManagementAgent/hr spec.objectTypes[0].attributes[1].name: duplicate entry name "id" (first at [0])']);
});

test("secrets cannot be written into a management agent: unknown fields are errors", () => {
  const withPassword = ma({
    connector: { type: "ldap", ldap: { url: "ldap://dir:389", baseDN: "dc=example,dc=org", password: "hunter2" } as never },
  });
  const errors = validateResources([withPassword]).errors;
  assert.deepEqual(errors.map(formatConfigError), ["ManagementAgent/hr spec.connector.ldap.password: unknown field 'password'"]);
  // The value itself never appears in an error.
  assert.ok(!JSON.stringify(errors).includes("hunter2"));
});

test("an Active Directory MA over plain LDAP is rejected at validation, as at kubectl apply", () => {
  const ad = (activeDirectory: Record<string, unknown>) =>
    ma({
      connector: {
        type: "activeDirectory",
        activeDirectory: { bindDN: "svc@corp.example", passwordSecretRef: { name: "ad", key: "password" }, baseDN: "DC=corp,DC=example", ...activeDirectory } as never,
      },
    });
  assert.deepEqual(problems([ad({ url: "ldap://dc1.corp.example" })]), [
    "ManagementAgent/hr spec.connector.activeDirectory.url: connector.activeDirectory.url is plain ldap://: the bind password and user passwords would cross the network unencrypted. Use ldaps://host:636, or ldap:// with startTLS: true",
  ]);
  assert.deepEqual(problems([ad({ url: "ldap://dc1.corp.example", startTLS: true })]), []);
  assert.deepEqual(problems([ad({ url: "ldaps://dc1.corp.example" })]), []);
  assert.deepEqual(problems([ma({ connector: { type: "activeDirectory" } as never })]), [
    "ManagementAgent/hr spec.connector.activeDirectory: connector type activeDirectory requires connector.activeDirectory",
  ]);
});
