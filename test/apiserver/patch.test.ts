// PATCH in its four content types through client-node: merge patch, JSON patch, strategic merge
// (as merge for custom resources) and server-side apply with field managers and conflicts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { expectStatus, kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";

type Obj = { metadata: Record<string, any>; spec?: any; status?: any };
const as = (strategy: string) => setHeaderOptions("Content-Type", strategy);

describe("patch", () => {
  let server: ApiServer;
  let api: CustomObjectsApi;
  before(async () => {
    server = await startWithFixture();
    api = kubeConfigFor(server).makeApiClient(CustomObjectsApi);
  });
  after(() => server.stop());

  it("merge patch sets and removes fields (null removes)", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("merge", { connector: { type: "csv", path: "a.csv" }, options: { x: 1 } }) });
    const patched = (await api.patchNamespacedCustomObject(
      { ...TA, name: "merge", body: { metadata: { labels: { tier: "gold" } }, spec: { connector: { path: null }, options: { y: 2 } } } },
      as(PatchStrategy.MergePatch),
    )) as Obj;
    assert.deepEqual(patched.spec.connector, { type: "csv" });
    assert.deepEqual(patched.spec.options, { x: 1, y: 2 });
    assert.equal(patched.metadata.labels.tier, "gold");
    assert.equal(patched.metadata.generation, 2);
  });

  it("merge patch with a stale resourceVersion is a 409 Conflict", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("merge-rv") })) as Obj;
    await api.patchNamespacedCustomObject({ ...TA, name: "merge-rv", body: { spec: { stagingMode: true } } }, as(PatchStrategy.MergePatch));
    const status = await expectStatus(
      api.patchNamespacedCustomObject(
        { ...TA, name: "merge-rv", body: { metadata: { resourceVersion: created.metadata.resourceVersion }, spec: { stagingMode: false } } },
        as(PatchStrategy.MergePatch),
      ),
      409,
    );
    assert.equal(status.reason, "Conflict");
  });

  it("JSON patch applies operations in order; a failed test is 422, a patch on a missing object 404", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("json", { connector: { type: "csv" }, objectTypes: [{ name: "person" }] }) });
    const patched = (await api.patchNamespacedCustomObject(
      {
        ...TA,
        name: "json",
        body: [
          { op: "test", path: "/spec/connector/type", value: "csv" },
          { op: "add", path: "/spec/objectTypes/-", value: { name: "group" } },
          { op: "replace", path: "/spec/connector/type", value: "ldap" },
        ],
      },
      as(PatchStrategy.JsonPatch),
    )) as Obj;
    assert.deepEqual(patched.spec.objectTypes.map((t: { name: string }) => t.name), ["person", "group"]);
    assert.equal(patched.spec.connector.type, "ldap");

    const failed = await expectStatus(
      api.patchNamespacedCustomObject({ ...TA, name: "json", body: [{ op: "test", path: "/spec/connector/type", value: "csv" }] }, as(PatchStrategy.JsonPatch)),
      422,
    );
    assert.match(failed.details?.causes?.[0].message ?? "", /testing value \/spec\/connector\/type failed/);
    await expectStatus(api.patchNamespacedCustomObject({ ...TA, name: "nope", body: [] }, as(PatchStrategy.JsonPatch)), 404);
  });

  it("client-node's default patch type is JSON patch, which a merge body does not satisfy (400)", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("default-type") });
    await expectStatus(api.patchNamespacedCustomObject({ ...TA, name: "default-type", body: { spec: { stagingMode: true } } }), 400);
  });

  it("strategic merge patch behaves as merge patch on a custom resource", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("strategic") });
    const patched = (await api.patchNamespacedCustomObject(
      { ...TA, name: "strategic", body: { spec: { stagingMode: true } } },
      as(PatchStrategy.StrategicMergePatch),
    )) as Obj;
    assert.equal(patched.spec.stagingMode, true);
    assert.equal(patched.spec.connector.type, "csv");
  });

  it("rejects an unknown patch content type with 415", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("media") });
    await expectStatus(api.patchNamespacedCustomObject({ ...TA, name: "media", body: {} }, as("text/plain")), 415);
  });

  it("server-side apply creates, records the manager, and removes fields the manager stops applying", async () => {
    const apply = (spec: object, fieldManager = "gitops") =>
      api.patchNamespacedCustomObject(
        { ...TA, name: "applied", fieldManager, body: { ...testAgent("applied", spec as Record<string, unknown>) } },
        as(PatchStrategy.ServerSideApply),
      ) as Promise<Obj>;
    const created = await apply({ connector: { type: "csv", path: "x.csv" }, options: { keep: true } });
    assert.equal(created.spec.connector.path, "x.csv");
    const entry = created.metadata.managedFields.find((e: { manager: string }) => e.manager === "gitops");
    assert.equal(entry.operation, "Apply");
    assert.ok(entry.fieldsV1["f:spec"]["f:connector"]["f:path"]);

    const reapplied = await apply({ connector: { type: "csv" } });
    assert.equal(reapplied.spec.connector.path, undefined, "a field no longer applied is removed");
    assert.equal(reapplied.spec.options, undefined);
    assert.equal(reapplied.spec.connector.type, "csv");
    assert.equal(reapplied.spec.stagingMode, false, "defaults still apply");
  });

  it("server-side apply conflicts with another manager's field unless forced", async () => {
    const apply = (path: string, fieldManager: string, force?: boolean) =>
      api.patchNamespacedCustomObject(
        { ...TA, name: "contested", fieldManager, force, body: testAgent("contested", { connector: { type: "csv", path } }) },
        as(PatchStrategy.ServerSideApply),
      ) as Promise<Obj>;
    await apply("one.csv", "alice");
    const status = await expectStatus(apply("two.csv", "bob"), 409);
    assert.equal(status.reason, "Conflict");
    assert.match(status.message, /Apply failed with 1 conflict: conflict with "alice": \.spec\.connector\.path/);
    const forced = await apply("two.csv", "bob", true);
    assert.equal(forced.spec.connector.path, "two.csv");
  });

  it("server-side apply needs a fieldManager", async () => {
    const status = await expectStatus(
      api.patchNamespacedCustomObject({ ...TA, name: "nomanager", body: testAgent("nomanager") }, as(PatchStrategy.ServerSideApply)),
      422,
    );
    assert.match(status.message, /fieldManager: Required value/);
  });
});
