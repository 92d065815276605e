// The status subresource and metadata.generation: spec changes bump generation, status writes
// never do, and each endpoint writes only its own part of the object.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { expectStatus, kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";

type Obj = { metadata: Record<string, any>; spec?: any; status?: any };
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("status subresource and generation", () => {
  let server: ApiServer;
  let api: CustomObjectsApi;
  before(async () => {
    server = await startWithFixture();
    api = kubeConfigFor(server).makeApiClient(CustomObjectsApi);
  });
  after(() => server.stop());

  it("drops status on create", async () => {
    const created = (await api.createNamespacedCustomObject({
      ...TA,
      body: { ...testAgent("with-status"), status: { observedGeneration: 7 } },
    })) as Obj;
    assert.equal(created.status, undefined);
  });

  it("a status patch changes only status and never bumps generation", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("reporter") });
    const patched = (await api.patchNamespacedCustomObjectStatus(
      {
        ...TA,
        name: "reporter",
        body: {
          metadata: { labels: { sneaky: "yes" } },
          spec: { stagingMode: true },
          status: { observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "Synced" }], counts: { person: 3 } },
        },
      },
      merge,
    )) as Obj;
    assert.equal(patched.status.counts.person, 3);
    assert.equal(patched.metadata.generation, 1);
    assert.equal(patched.spec.stagingMode, false, "spec in a status write is ignored");
    assert.equal(patched.metadata.labels, undefined, "metadata in a status write is ignored");
    const entry = patched.metadata.managedFields.find((e: { subresource?: string }) => e.subresource === "status");
    assert.ok(entry, "the status write has its own managedFields entry");
  });

  it("a main-resource write ignores status; spec changes bump generation, metadata changes do not", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("gen") });
    await api.patchNamespacedCustomObjectStatus({ ...TA, name: "gen", body: { status: { observedGeneration: 1 } } }, merge);

    const labelled = (await api.patchNamespacedCustomObject(
      { ...TA, name: "gen", body: { metadata: { labels: { a: "b" } }, status: { observedGeneration: 99 } } },
      merge,
    )) as Obj;
    assert.equal(labelled.metadata.generation, 1);
    assert.equal(labelled.status.observedGeneration, 1);

    const respecced = (await api.patchNamespacedCustomObject({ ...TA, name: "gen", body: { spec: { stagingMode: true } } }, merge)) as Obj;
    assert.equal(respecced.metadata.generation, 2);

    const current = (await api.getNamespacedCustomObject({ ...TA, name: "gen" })) as Obj;
    current.status.observedGeneration = 2;
    const replaced = (await api.replaceNamespacedCustomObjectStatus({ ...TA, name: "gen", body: current })) as Obj;
    assert.equal(replaced.status.observedGeneration, 2);
    assert.equal(replaced.metadata.generation, 2);
  });

  it("a status update with a stale resourceVersion is a 409 Conflict", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("stale-status") })) as Obj;
    await api.patchNamespacedCustomObject({ ...TA, name: "stale-status", body: { spec: { stagingMode: true } } }, merge);
    await expectStatus(
      api.replaceNamespacedCustomObjectStatus({ ...TA, name: "stale-status", body: { ...created, status: { observedGeneration: 1 } } }),
      409,
    );
  });

  it("status is validated against the schema too", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("bad-status") });
    const status = await expectStatus(
      api.patchNamespacedCustomObjectStatus({ ...TA, name: "bad-status", body: { status: { conditions: [{ type: "Ready", status: "Maybe" }] } } }, merge),
      422,
    );
    assert.equal(status.details?.causes?.[0].field, "status.conditions[0].status");
  });
});
