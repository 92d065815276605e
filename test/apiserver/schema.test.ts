// Schema admission of custom resources: unknown fields pruned, defaults applied, type and
// constraint errors as 422 Invalid with field paths, and x-kubernetes-validations (CEL) rules.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { expectStatus, kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";

type Obj = { metadata: Record<string, any>; spec?: any; [k: string]: any };

describe("schema validation, defaults and pruning", () => {
  let server: ApiServer;
  let api: CustomObjectsApi;
  before(async () => {
    server = await startWithFixture();
    api = kubeConfigFor(server).makeApiClient(CustomObjectsApi);
  });
  after(() => server.stop());

  it("applies defaults, including inside a defaulted object", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("defaults") })) as Obj;
    assert.deepEqual(created.spec.deletionThreshold, { maxDeletes: 500 });
    assert.equal(created.spec.stagingMode, false);
  });

  it("keeps given values over defaults and defaults again after a field is removed", async () => {
    await api.createNamespacedCustomObject({
      ...TA,
      body: testAgent("given", { connector: { type: "csv" }, deletionThreshold: { maxDeletes: 3, maxPercent: 10 } }),
    });
    const patched = (await api.patchNamespacedCustomObject(
      { ...TA, name: "given", body: { spec: { deletionThreshold: { maxDeletes: null } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    )) as Obj;
    assert.deepEqual(patched.spec.deletionThreshold, { maxDeletes: 500, maxPercent: 10 });
  });

  it("prunes unknown fields, but not under x-kubernetes-preserve-unknown-fields", async () => {
    const created = (await api.createNamespacedCustomObject({
      ...TA,
      body: { ...testAgent("pruned", { connector: { type: "csv", typo: 1 }, extra: true, options: { free: { form: 1 } } }), junk: "x" },
    })) as Obj;
    assert.equal(created.spec.connector.typo, undefined);
    assert.equal(created.spec.extra, undefined);
    assert.equal(created.junk, undefined);
    assert.deepEqual(created.spec.options, { free: { form: 1 } });
  });

  it("rejects type, enum, required and pattern errors with 422 and every cause", async () => {
    const status = await expectStatus(
      api.createNamespacedCustomObject({
        ...TA,
        body: testAgent("invalid", { connector: { type: "sql" }, objectTypes: [{ anchor: "id" }, { name: "9lives" }], stagingMode: "yes" }),
      }),
      422,
    );
    assert.equal(status.reason, "Invalid");
    assert.deepEqual(status.details?.name, "invalid");
    assert.deepEqual(status.details?.kind, "TestAgent");
    const byField = new Map(status.details!.causes!.map((c) => [c.field, c]));
    assert.equal(byField.get("spec.connector.type")?.reason, "FieldValueNotSupported");
    assert.equal(byField.get("spec.connector.type")?.message, 'Unsupported value: "sql": supported values: "csv", "ldap"');
    assert.equal(byField.get("spec.objectTypes[0].name")?.reason, "FieldValueRequired");
    assert.equal(byField.get("spec.objectTypes[0].anchor")?.reason, "FieldValueTypeInvalid");
    assert.equal(byField.get("spec.objectTypes[1].name")?.reason, "FieldValueInvalid");
    assert.equal(
      byField.get("spec.stagingMode")?.message,
      'Invalid value: "string": spec.stagingMode in body must be of type boolean: "string"',
    );
    assert.match(status.message, /^TestAgent\.idsync\.dev "invalid" is invalid: \[/);
  });

  it("rejects a missing required object and names it", async () => {
    const status = await expectStatus(api.createNamespacedCustomObject({ ...TA, body: testAgent("no-connector", {}) }), 422);
    assert.equal(status.message, 'TestAgent.idsync.dev "no-connector" is invalid: spec.connector: Required value');
  });

  it("evaluates x-kubernetes-validations rules", async () => {
    const status = await expectStatus(
      api.createNamespacedCustomObject({
        ...TA,
        body: testAgent("too-many", { connector: { type: "csv" }, deletionThreshold: { maxDeletes: 200000 } }),
      }),
      422,
    );
    assert.equal(status.details?.causes?.[0].field, "spec");
    assert.match(status.details?.causes?.[0].message ?? "", /maxDeletes may be at most 100000/);
  });

  it("validates names as RFC 1123 subdomains", async () => {
    const status = await expectStatus(api.createNamespacedCustomObject({ ...TA, body: testAgent("Not_Valid") }), 422);
    assert.equal(status.details?.causes?.[0].field, "metadata.name");
  });

  it("validates updates too", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("later") })) as Obj;
    created.spec.connector.type = "ftp";
    await expectStatus(api.replaceNamespacedCustomObject({ ...TA, name: "later", body: created }), 422);
  });
});
