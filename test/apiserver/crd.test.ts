// CustomResourceDefinitions created through the API register their resources at once (discovery
// included) and take their objects with them when deleted; CRD files load at start-up.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ApiextensionsV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { startApiServer, type ApiServer } from "./server.ts";
import { expectStatus, FIXTURE_CRD, kubeConfigFor, TA, testAgent } from "./helpers.ts";

describe("CustomResourceDefinitions", () => {
  let server: ApiServer;
  let crds: ApiextensionsV1Api;
  let custom: CustomObjectsApi;
  before(async () => {
    server = await startApiServer({ crdFiles: [] });
    const kc = kubeConfigFor(server);
    crds = kc.makeApiClient(ApiextensionsV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
  });
  after(() => server.stop());

  it("serves nothing of a CRD before it is created", async () => {
    const res = await fetch(`${server.url}/apis/idsync.dev/v1alpha1`);
    assert.equal(res.status, 404);
    await expectStatus(custom.listNamespacedCustomObject({ ...TA }), 404);
  });

  it("registers a created CRD: Established, discoverable, and serving objects", async () => {
    // Posted as raw JSON, as kubectl does: client-node's typed models (ApiextensionsV1Api, and
    // KubernetesObjectApi, which serializes through them) drop a plain-YAML `default`, which they call `_default`.
    const response = await fetch(`${server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(yaml.load(readFileSync(FIXTURE_CRD, "utf8"))),
    });
    assert.equal(response.status, 201);
    const created = (await response.json()) as V1CustomResourceDefinition;
    const established = created.status?.conditions?.find((c) => c.type === "Established");
    assert.equal(established?.status, "True");
    assert.deepEqual(created.status?.storedVersions, ["v1alpha1"]);

    const groups = (await (await fetch(`${server.url}/apis`)).json()) as { groups: Array<{ name: string }> };
    assert.ok(groups.groups.some((g) => g.name === "idsync.dev"));
    const resources = (await (await fetch(`${server.url}/apis/idsync.dev/v1alpha1`)).json()) as { resources: Array<{ name: string; shortNames?: string[] }> };
    assert.deepEqual(resources.resources.map((r) => r.name), ["testagents", "testagents/status"]);
    assert.deepEqual(resources.resources[0].shortNames, ["ta"]);

    await custom.createNamespacedCustomObject({ ...TA, body: testAgent("dynamic") });
    const got = (await custom.getNamespacedCustomObject({ ...TA, name: "dynamic" })) as { spec: { stagingMode: boolean } };
    assert.equal(got.spec.stagingMode, false, "the CRD's schema defaults apply");
    const listed = await crds.listCustomResourceDefinition();
    assert.deepEqual(listed.items.map((c) => c.metadata?.name), ["testagents.idsync.dev"]);
  });

  it("refuses a CRD whose name is not <plural>.<group>", async () => {
    const definition = yaml.load(readFileSync(FIXTURE_CRD, "utf8")) as V1CustomResourceDefinition;
    definition.metadata!.name = "wrong.idsync.dev";
    const status = await expectStatus(crds.createCustomResourceDefinition({ body: definition }), 422);
    assert.equal(status.details?.causes?.[0].field, "metadata.name");
  });

  it("unregisters a deleted CRD and deletes its objects", async () => {
    await crds.deleteCustomResourceDefinition({ name: "testagents.idsync.dev" });
    await expectStatus(custom.getNamespacedCustomObject({ ...TA, name: "dynamic" }), 404);
    const res = await fetch(`${server.url}/apis/idsync.dev/v1alpha1`);
    assert.equal(res.status, 404);
  });

  it("loads CRD files at start-up and reports a broken one by file", async () => {
    const withFixture = await startApiServer({ crdFiles: [FIXTURE_CRD] });
    try {
      const listed = await kubeConfigFor(withFixture).makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
      assert.equal(listed.items.length, 1);
    } finally {
      await withFixture.stop();
    }
    await assert.rejects(startApiServer({ crdFiles: [new URL(import.meta.url).pathname] }), /not valid YAML/);
  });

  it("serves the repository's crds/*.yaml by default", async (t) => {
    const dir = new URL("../../crds/", import.meta.url);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
    if (files.length === 0) return t.skip("crds/ has no CRD files yet");
    const byDefault = await startApiServer();
    try {
      const names = (await kubeConfigFor(byDefault).makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition()).items.map((c) => c.metadata?.name);
      assert.equal(names.length, files.length);
      assert.ok(names.every((n) => n?.endsWith(".idsync.dev")));
    } finally {
      await byDefault.stop();
    }
  });
});
