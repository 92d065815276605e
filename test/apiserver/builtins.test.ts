// Built-in types the operator uses: Leases (leader election), Secrets, Events in both APIs, Namespaces.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoordinationV1Api, CoreV1Api, EventsV1Api, type V1Lease } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { expectStatus, kubeConfigFor, startWithFixture } from "./helpers.ts";

describe("built-in resources", () => {
  let server: ApiServer;
  let core: CoreV1Api;
  let leases: CoordinationV1Api;
  let events: EventsV1Api;
  before(async () => {
    server = await startWithFixture();
    const kc = kubeConfigFor(server);
    core = kc.makeApiClient(CoreV1Api);
    leases = kc.makeApiClient(CoordinationV1Api);
    events = kc.makeApiClient(EventsV1Api);
  });
  after(() => server.stop());

  it("Leases: create, take over with the current resourceVersion, lose a race with a stale one", async () => {
    const renew = new Date();
    const created = await leases.createNamespacedLease({
      namespace: "default",
      body: { metadata: { name: "idsync-leader" }, spec: { holderIdentity: "pod-a", leaseDurationSeconds: 15, renewTime: renew, leaseTransitions: 0 } },
    });
    assert.equal(created.spec?.holderIdentity, "pod-a");
    assert.equal(created.metadata?.generation, undefined, "Leases have no generation");
    await expectStatus(leases.createNamespacedLease({ namespace: "default", body: { metadata: { name: "idsync-leader" } } }), 409);

    const takeover: V1Lease = { ...created, spec: { ...created.spec, holderIdentity: "pod-b", leaseTransitions: 1 } };
    const taken = await leases.replaceNamespacedLease({ namespace: "default", name: "idsync-leader", body: takeover });
    assert.equal(taken.spec?.holderIdentity, "pod-b");
    assert.equal(new Date(taken.spec!.renewTime!).getTime(), renew.getTime());

    const race: V1Lease = { ...created, spec: { ...created.spec, holderIdentity: "pod-c" } };
    const status = await expectStatus(leases.replaceNamespacedLease({ namespace: "default", name: "idsync-leader", body: race }), 409);
    assert.equal(status.message, 'Operation cannot be fulfilled on leases.coordination.k8s.io "idsync-leader": the object has been modified; please apply your changes to the latest version and try again');
    assert.equal((await leases.readNamespacedLease({ namespace: "default", name: "idsync-leader" })).spec?.holderIdentity, "pod-b");
  });

  it("Leases: PUT creates a missing lease, as the real Lease strategy allows", async () => {
    const made = await leases.replaceNamespacedLease({
      namespace: "default",
      name: "put-created",
      body: { metadata: { name: "put-created" }, spec: { holderIdentity: "pod-x" } },
    });
    assert.equal(made.spec?.holderIdentity, "pod-x");
  });

  it("Secrets: stringData becomes base64 data and is never returned; immutable Secrets stay as they are", async () => {
    const secret = await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "bind" }, stringData: { password: "pa55" }, immutable: true },
    });
    assert.equal(secret.type, "Opaque");
    assert.equal(Buffer.from(secret.data!.password, "base64").toString(), "pa55");
    assert.equal(secret.stringData, undefined);
    const status = await expectStatus(
      core.replaceNamespacedSecret({ namespace: "default", name: "bind", body: { ...secret, data: { password: "Y2hhbmdlZA==" } } }),
      422,
    );
    assert.match(status.message, /data: Forbidden: field is immutable when `immutable` is set/);
    const list = await core.listNamespacedSecret({ namespace: "default" });
    assert.ok(list.items.some((s) => s.metadata?.name === "bind"));
  });

  it("Events: one table served as events.k8s.io/v1 and core/v1", async () => {
    const now = new Date();
    await events.createNamespacedEvent({
      namespace: "default",
      body: {
        metadata: { name: "hr.run-1" },
        eventTime: now,
        reportingController: "idsync.dev/operator",
        reportingInstance: "pod-a",
        action: "Run",
        reason: "RunSucceeded",
        type: "Normal",
        note: "full-import: 3 adds",
        regarding: { apiVersion: "idsync.dev/v1alpha1", kind: "TestAgent", name: "hr", namespace: "default" },
      },
    });
    const asCore = await core.readNamespacedEvent({ namespace: "default", name: "hr.run-1" });
    assert.equal(asCore.message, "full-import: 3 adds");
    assert.equal(asCore.involvedObject.name, "hr");
    assert.equal(asCore.reportingComponent, "idsync.dev/operator");

    await core.createNamespacedEvent({
      namespace: "default",
      body: { metadata: { name: "hr.core-1" }, involvedObject: { kind: "TestAgent", name: "hr" }, reason: "Blocked", message: "held back", type: "Warning" },
    });
    const listed = await events.listNamespacedEvent({ namespace: "default" });
    const fromCore = listed.items.find((e) => e.metadata?.name === "hr.core-1");
    assert.equal(fromCore?.note, "held back");
    assert.equal(fromCore?.regarding?.name, "hr");

    const byObject = await core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=hr,reason=Blocked" });
    assert.deepEqual(byObject.items.map((e) => e.metadata?.name), ["hr.core-1"]);

    const status = await expectStatus(
      events.createNamespacedEvent({ namespace: "default", body: { metadata: { name: "incomplete" }, eventTime: now, type: "Normal" } }),
      422,
    );
    assert.ok(status.details?.causes?.some((c) => c.field === "reportingController"));
  });

  it("Namespaces: the usual ones exist, new ones can be created and listed, none deleted", async () => {
    const ns = await core.readNamespace({ name: "default" });
    assert.equal(ns.status?.phase, "Active");
    const created = await core.createNamespace({ body: { metadata: { name: "team-a" } } });
    assert.equal(created.metadata?.labels?.["kubernetes.io/metadata.name"], "team-a");
    const names = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.deepEqual(names.sort(), ["default", "kube-node-lease", "kube-public", "kube-system", "team-a"]);
    await expectStatus(core.createNamespace({ body: { metadata: { name: "Bad_Name" } } }), 422);
    await expectStatus(core.deleteNamespace({ name: "team-a" }), 405);
  });
});
