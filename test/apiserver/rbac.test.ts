// RBAC: the operator's service account gets exactly what its (Cluster)Role rules grant, and a
// missing verb fails with the real 403 wording; the admin token may do anything.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CoordinationV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions,
} from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { expectStatus, kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";

const SA_TOKEN = "sa-token-for-tests";
const ADMIN_TOKEN = "admin-token-for-tests";
const SA_USER = "system:serviceaccount:idsync-system:idsync";
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("RBAC for the operator's service account", () => {
  let server: ApiServer;
  let admin: { custom: CustomObjectsApi; core: CoreV1Api };
  let sa: { custom: CustomObjectsApi; core: CoreV1Api; leases: CoordinationV1Api };
  before(async () => {
    server = await startWithFixture({
      rbac: {
        serviceAccountToken: SA_TOKEN,
        adminToken: ADMIN_TOKEN,
        serviceAccountNamespace: "idsync-system",
        rules: [
          { apiGroups: ["idsync.dev"], resources: ["testagents"], verbs: ["get", "list", "watch", "update", "patch"] },
          { apiGroups: ["idsync.dev"], resources: ["testagents/status"], verbs: ["get", "update"] },
          { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["ldap-bind"] },
          { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
        ],
        roleRules: [
          { namespace: "idsync-system", rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] }] },
        ],
      },
    });
    const adminKc = kubeConfigFor(server); // the admin token is the kubeconfig default
    admin = { custom: adminKc.makeApiClient(CustomObjectsApi), core: adminKc.makeApiClient(CoreV1Api) };
    const saKc = kubeConfigFor(server, SA_TOKEN);
    sa = { custom: saKc.makeApiClient(CustomObjectsApi), core: saKc.makeApiClient(CoreV1Api), leases: saKc.makeApiClient(CoordinationV1Api) };
    await admin.core.createNamespace({ body: { metadata: { name: "idsync-system" } } });
    await admin.custom.createNamespacedCustomObject({ ...TA, body: testAgent("hr") });
    for (const name of ["ldap-bind", "other"]) {
      await admin.core.createNamespacedSecret({ namespace: "default", body: { metadata: { name }, stringData: { password: "s3cret" } } });
    }
  });
  after(() => server.stop());

  it("allows the granted verbs", async () => {
    const list = (await sa.custom.listNamespacedCustomObject({ ...TA })) as { items: unknown[] };
    assert.equal(list.items.length, 1);
    const got = (await sa.custom.getNamespacedCustomObject({ ...TA, name: "hr" })) as { metadata: { resourceVersion: string } };
    await sa.custom.replaceNamespacedCustomObjectStatus({ ...TA, name: "hr", body: { ...got, status: { observedGeneration: 1 } } });
    await sa.custom.patchNamespacedCustomObject({ ...TA, name: "hr", body: { metadata: { finalizers: ["idsync.dev/cleanup"] } } }, merge);
  });

  it("denies a verb the rules lack, with the real message and Status", async () => {
    const status = await expectStatus(sa.custom.createNamespacedCustomObject({ ...TA, body: testAgent("new") }), 403);
    assert.equal(status.reason, "Forbidden");
    assert.equal(
      status.message,
      `testagents.idsync.dev is forbidden: User "${SA_USER}" cannot create resource "testagents" in API group "idsync.dev" in the namespace "default"`,
    );
    assert.deepEqual(status.details, { group: "idsync.dev", kind: "testagents" });
  });

  it("checks subresources separately: status may be updated but not patched", async () => {
    const status = await expectStatus(
      sa.custom.patchNamespacedCustomObjectStatus({ ...TA, name: "hr", body: { status: { observedGeneration: 2 } } }, merge),
      403,
    );
    assert.equal(
      status.message,
      `testagents.idsync.dev "hr" is forbidden: User "${SA_USER}" cannot patch resource "testagents/status" in API group "idsync.dev" in the namespace "default"`,
    );
  });

  it("honours resourceNames: one Secret may be read, no other, and none listed", async () => {
    const secret = await sa.core.readNamespacedSecret({ namespace: "default", name: "ldap-bind" });
    assert.equal(Buffer.from(secret.data!.password, "base64").toString(), "s3cret");
    const other = await expectStatus(sa.core.readNamespacedSecret({ namespace: "default", name: "other" }), 403);
    assert.equal(other.message, `secrets "other" is forbidden: User "${SA_USER}" cannot get resource "secrets" in API group "" in the namespace "default"`);
    await expectStatus(sa.core.listNamespacedSecret({ namespace: "default" }), 403);
  });

  it("applies Role rules only in their namespace", async () => {
    const lease = { metadata: { name: "idsync-leader" }, spec: { holderIdentity: "a", leaseDurationSeconds: 15 } };
    await sa.leases.createNamespacedLease({ namespace: "idsync-system", body: lease });
    const status = await expectStatus(sa.leases.createNamespacedLease({ namespace: "default", body: lease }), 403);
    assert.match(status.message, /cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "default"$/);
    const cluster = await expectStatus(sa.leases.listLeaseForAllNamespaces(), 403);
    assert.match(cluster.message, /cannot list resource "leases" in API group "coordination.k8s.io" at the cluster scope$/);
  });

  it("lets the admin token do anything; rejects an unknown token (401) and anonymous requests (403)", async () => {
    await admin.custom.createNamespacedCustomObject({ ...TA, body: testAgent("by-admin") });
    // client-node drops the body of a 401, so the Status is read with plain fetch.
    const wrong = await fetch(`${server.url}/apis/idsync.dev/v1alpha1/namespaces/default/testagents`, { headers: { authorization: "Bearer wrong" } });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { reason: string }).reason, "Unauthorized");
    const anonymous = await fetch(`${server.url}/apis/idsync.dev/v1alpha1/namespaces/default/testagents`);
    assert.equal(anonymous.status, 403);
    assert.match(((await anonymous.json()) as { message: string }).message, /User "system:anonymous" cannot list/);
    // Discovery is open to every user, as system:discovery makes it.
    const discovery = await fetch(`${server.url}/apis/idsync.dev/v1alpha1`, { headers: { authorization: `Bearer ${SA_TOKEN}` } });
    assert.equal(discovery.status, 200);
  });

  it("records every resource request with its verdict", () => {
    const denied = server.requests.filter((r) => !r.allowed && r.user === SA_USER);
    assert.ok(denied.some((r) => r.verb === "patch" && r.resource === "testagents" && r.subresource === "status" && r.name === "hr"));
    assert.ok(server.requests.some((r) => r.allowed && r.verb === "list" && r.resource === "testagents" && r.user === SA_USER));
  });
});
