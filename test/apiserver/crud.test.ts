// Create / get / list / update against the test API server through the real client-node.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { expectStatus, kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";

type Obj = { metadata: Record<string, any>; spec?: any; status?: any; items?: Obj[] };

describe("custom resources: create, get, list, update", () => {
  let server: ApiServer;
  let api: CustomObjectsApi;
  before(async () => {
    server = await startWithFixture();
    api = kubeConfigFor(server).makeApiClient(CustomObjectsApi);
  });
  after(() => server.stop());

  it("creates with server-set metadata, and refuses a duplicate with 409 AlreadyExists", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("create-me") })) as Obj;
    assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(created.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.metadata.namespace, "default");
    assert.ok(Number(created.metadata.resourceVersion) > 0);

    const status = await expectStatus(api.createNamespacedCustomObject({ ...TA, body: testAgent("create-me") }), 409);
    assert.equal(status.reason, "AlreadyExists");
    assert.equal(status.message, 'testagents.idsync.dev "create-me" already exists');
    assert.deepEqual(status.details, { name: "create-me", group: "idsync.dev", kind: "testagents" });
  });

  it("gets what it stored and answers 404 NotFound for what it did not", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("get-me") });
    const got = (await api.getNamespacedCustomObject({ ...TA, name: "get-me" })) as Obj;
    assert.equal(got.spec.connector.type, "csv");
    const status = await expectStatus(api.getNamespacedCustomObject({ ...TA, name: "absent" }), 404);
    assert.equal(status.reason, "NotFound");
    assert.equal(status.message, 'testagents.idsync.dev "absent" not found');
  });

  it("refuses an object in a namespace that does not exist", async () => {
    const status = await expectStatus(api.createNamespacedCustomObject({ ...TA, namespace: "nowhere", body: testAgent("x") }), 404);
    assert.equal(status.message, 'namespaces "nowhere" not found');
  });

  it("names an object from generateName", async () => {
    const created = (await api.createNamespacedCustomObject({
      ...TA,
      body: { ...testAgent(""), metadata: { generateName: "gen-" } },
    })) as Obj;
    assert.match(created.metadata.name, /^gen-[a-z0-9]{5}$/);
  });

  it("lists with label and field selectors, and pages with limit/continue", async () => {
    for (const [name, team] of [["list-a", "red"], ["list-b", "blue"], ["list-c", "red"]]) {
      await api.createNamespacedCustomObject({ ...TA, body: { ...testAgent(name), metadata: { name, labels: { team, listed: "yes" } } } });
    }
    const red = (await api.listNamespacedCustomObject({ ...TA, labelSelector: "team=red" })) as Obj;
    assert.deepEqual(red.items!.map((o) => o.metadata.name), ["list-a", "list-c"]);
    const notRed = (await api.listNamespacedCustomObject({ ...TA, labelSelector: "listed,team!=red" })) as Obj;
    assert.deepEqual(notRed.items!.map((o) => o.metadata.name), ["list-b"]);
    const inSet = (await api.listNamespacedCustomObject({ ...TA, labelSelector: "team in (blue,green)" })) as Obj;
    assert.deepEqual(inSet.items!.map((o) => o.metadata.name), ["list-b"]);
    const byName = (await api.listNamespacedCustomObject({ ...TA, fieldSelector: "metadata.name=list-c" })) as Obj;
    assert.deepEqual(byName.items!.map((o) => o.metadata.name), ["list-c"]);
    await expectStatus(api.listNamespacedCustomObject({ ...TA, fieldSelector: "spec.stagingMode=true" }), 400);

    const page1 = (await api.listNamespacedCustomObject({ ...TA, labelSelector: "listed=yes", limit: 2 })) as Obj;
    assert.equal(page1.items!.length, 2);
    assert.ok(page1.metadata.continue);
    const page2 = (await api.listNamespacedCustomObject({ ...TA, labelSelector: "listed=yes", limit: 2, _continue: page1.metadata.continue })) as Obj;
    assert.deepEqual(page2.items!.map((o) => o.metadata.name), ["list-c"]);
    assert.equal(page2.metadata.continue, undefined);
  });

  it("lists across all namespaces with the list's resourceVersion", async () => {
    const all = (await api.listClusterCustomObject({ group: TA.group, version: TA.version, plural: TA.plural })) as Obj & { kind: string };
    assert.equal(all.kind, "TestAgentList");
    assert.ok(all.items!.length >= 1);
    assert.ok(Number(all.metadata.resourceVersion) >= Math.max(...all.items!.map((o) => Number(o.metadata.resourceVersion))));
  });

  it("updates with the current resourceVersion and answers 409 Conflict on a stale one", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("update-me") })) as Obj;
    const fresh = structuredClone(created);
    fresh.spec.connector.path = "new.csv";
    const updated = (await api.replaceNamespacedCustomObject({ ...TA, name: "update-me", body: fresh })) as Obj;
    assert.equal(updated.spec.connector.path, "new.csv");
    assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    assert.equal(updated.metadata.generation, 2);

    const stale = structuredClone(created);
    stale.spec.connector.path = "stale.csv";
    const status = await expectStatus(api.replaceNamespacedCustomObject({ ...TA, name: "update-me", body: stale }), 409);
    assert.equal(status.reason, "Conflict");
    assert.equal(
      status.message,
      'Operation cannot be fulfilled on testagents.idsync.dev "update-me": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it("requires a resourceVersion on a custom resource update (422) and a matching name (400)", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("unconditional") });
    const noRv = await expectStatus(api.replaceNamespacedCustomObject({ ...TA, name: "unconditional", body: testAgent("unconditional") }), 422);
    assert.equal(noRv.details?.causes?.[0].field, "metadata.resourceVersion");
    await expectStatus(api.replaceNamespacedCustomObject({ ...TA, name: "unconditional", body: testAgent("other") }), 400);
  });

  it("wants apiVersion and kind in a custom resource body (400), as unstructured decoding does", async () => {
    const status = await expectStatus(api.createNamespacedCustomObject({ ...TA, body: { metadata: { name: "kindless" }, spec: {} } }), 400);
    assert.match(status.message, /^Object 'Kind' is missing in/);
  });

  it("does not write an update that changes nothing", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("no-op") })) as Obj;
    const same = (await api.replaceNamespacedCustomObject({ ...TA, name: "no-op", body: created })) as Obj;
    assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.equal(same.metadata.generation, 1);
  });

  it("deletes, answering with a Success Status, then 404", async () => {
    const created = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("delete-me") })) as Obj;
    const status = (await api.deleteNamespacedCustomObject({ ...TA, name: "delete-me" })) as Record<string, any>;
    assert.equal(status.kind, "Status");
    assert.equal(status.status, "Success");
    assert.equal(status.details.uid, created.metadata.uid);
    await expectStatus(api.getNamespacedCustomObject({ ...TA, name: "delete-me" }), 404);
    await expectStatus(api.deleteNamespacedCustomObject({ ...TA, name: "delete-me" }), 404);
  });

  it("honours a delete precondition on the uid", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("guarded") });
    const status = await expectStatus(
      api.deleteNamespacedCustomObject({ ...TA, name: "guarded", body: { preconditions: { uid: "not-the-uid" } } }),
      409,
    );
    assert.match(status.message, /Precondition failed: UID in precondition: not-the-uid/);
  });
});
