// Finalizers: a delete marks the object (deletionTimestamp, generation bump) and it stays until an
// update empties its finalizers; then it is gone and watchers see DELETED.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { eventually, expectStatus, kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";

type Obj = { metadata: Record<string, any>; spec?: any };
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("finalizers and deletionTimestamp", () => {
  let server: ApiServer;
  let api: CustomObjectsApi;
  let watch: Watch;
  before(async () => {
    server = await startWithFixture();
    const kc = kubeConfigFor(server);
    api = kc.makeApiClient(CustomObjectsApi);
    watch = new Watch(kc);
  });
  after(() => server.stop());

  it("keeps a finalized object until its finalizers are removed, then sends DELETED", async () => {
    const body = { ...testAgent("guarded"), metadata: { name: "guarded", finalizers: ["idsync.dev/cleanup"] } };
    const created = (await api.createNamespacedCustomObject({ ...TA, body })) as Obj;

    const events: Array<[string, Obj]> = [];
    const req = await watch.watch(
      `/apis/idsync.dev/v1alpha1/namespaces/default/testagents`,
      { resourceVersion: created.metadata.resourceVersion, fieldSelector: "metadata.name=guarded" },
      (type, obj) => events.push([type, obj as Obj]),
      () => {},
    );

    const marked = (await api.deleteNamespacedCustomObject({ ...TA, name: "guarded" })) as Obj;
    assert.ok(marked.metadata.deletionTimestamp, "delete answers with the marked object");
    assert.equal(marked.metadata.deletionGracePeriodSeconds, 0);
    assert.equal(marked.metadata.generation, 2);
    const still = (await api.getNamespacedCustomObject({ ...TA, name: "guarded" })) as Obj;
    assert.equal(still.metadata.deletionTimestamp, marked.metadata.deletionTimestamp);

    // A second delete changes nothing.
    const again = (await api.deleteNamespacedCustomObject({ ...TA, name: "guarded" })) as Obj;
    assert.equal(again.metadata.resourceVersion, marked.metadata.resourceVersion);

    // No new finalizers on an object being deleted.
    const refused = await expectStatus(
      api.patchNamespacedCustomObject({ ...TA, name: "guarded", body: { metadata: { finalizers: ["idsync.dev/cleanup", "x.dev/other"] } } }, merge),
      422,
    );
    assert.match(refused.message, /no new finalizers can be added if the object is being deleted/);

    // Spec updates still work while the object waits for its finalizer.
    await api.patchNamespacedCustomObject({ ...TA, name: "guarded", body: { spec: { stagingMode: true } } }, merge);
    await api.patchNamespacedCustomObject({ ...TA, name: "guarded", body: { metadata: { finalizers: null } } }, merge);
    await expectStatus(api.getNamespacedCustomObject({ ...TA, name: "guarded" }), 404);

    await eventually(() => events.some(([t]) => t === "DELETED"), "a DELETED event");
    req.abort();
    assert.deepEqual(events.map(([t]) => t), ["MODIFIED", "MODIFIED", "DELETED"]);
    assert.ok(events[0][1].metadata.deletionTimestamp);
  });

  it("deletes an object without finalizers at once", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("plain") });
    await api.deleteNamespacedCustomObject({ ...TA, name: "plain" });
    await expectStatus(api.getNamespacedCustomObject({ ...TA, name: "plain" }), 404);
  });

  it("a JSON patch removing the last finalizer also completes the deletion", async () => {
    const body = { ...testAgent("jp"), metadata: { name: "jp", finalizers: ["a.dev/x"] } };
    await api.createNamespacedCustomObject({ ...TA, body });
    await api.deleteNamespacedCustomObject({ ...TA, name: "jp" });
    await api.patchNamespacedCustomObject(
      { ...TA, name: "jp", body: [{ op: "remove", path: "/metadata/finalizers/0" }] },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    await expectStatus(api.getNamespacedCustomObject({ ...TA, name: "jp" }), 404);
  });
});
