// Watches through client-node's Watch and informer: resume from a resourceVersion, bookmarks,
// 410 Gone for compacted history, selector transitions, dropped connections and restarts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, CustomObjectsApi, makeInformer, PatchStrategy, setHeaderOptions, Watch, type KubernetesObject } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { eventually, kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";

type Obj = { metadata: Record<string, any>; spec?: any; code?: number; reason?: string; kind?: string };
const PATH = "/apis/idsync.dev/v1alpha1/namespaces/default/testagents";
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("watch", () => {
  let server: ApiServer;
  let api: CustomObjectsApi;
  let watch: Watch;
  let kc: ReturnType<typeof kubeConfigFor>;
  before(async () => {
    server = await startWithFixture({ bookmarkIntervalMs: 50 });
    kc = kubeConfigFor(server);
    api = kc.makeApiClient(CustomObjectsApi);
    watch = new Watch(kc);
  });
  after(() => server.stop());

  /** Opens a watch and collects its events until `done`. */
  async function collect(query: Record<string, string | number | boolean | undefined>) {
    const events: Array<{ type: string; object: Obj }> = [];
    let ended: { err: unknown } | undefined;
    const req = await watch.watch(PATH, query, (type, object) => events.push({ type, object }), (err) => (ended = { err }));
    return { events, req, ended: () => ended };
  }

  it("resumes after a resourceVersion with exactly the later changes, in order", async () => {
    const a = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("resume-a") })) as Obj;
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("resume-b") });
    await api.patchNamespacedCustomObject({ ...TA, name: "resume-a", body: { spec: { stagingMode: true } } }, merge);
    await api.deleteNamespacedCustomObject({ ...TA, name: "resume-b" });
    const w = await collect({ resourceVersion: a.metadata.resourceVersion });
    await eventually(() => w.events.length >= 3, "three replayed events");
    w.req.abort();
    assert.deepEqual(
      w.events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ["ADDED resume-b", "MODIFIED resume-a", "DELETED resume-b"],
    );
    const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
    assert.deepEqual([...rvs].sort((x, y) => x - y), rvs, "resourceVersions increase");
    assert.ok(rvs[0] > Number(a.metadata.resourceVersion));
  });

  it("without a resourceVersion starts with ADDED for every existing object, then live events", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: { ...testAgent("initial"), metadata: { name: "initial", labels: { w: "initial" } } } });
    const w = await collect({ labelSelector: "w=initial" });
    await eventually(() => w.events.length === 1, "the synthetic ADDED");
    await api.patchNamespacedCustomObject({ ...TA, name: "initial", body: { spec: { stagingMode: true } } }, merge);
    await eventually(() => w.events.length === 2, "the live MODIFIED");
    w.req.abort();
    assert.deepEqual(w.events.map((e) => e.type), ["ADDED", "MODIFIED"]);
  });

  it("shows an object leaving a label selector as DELETED and entering it as ADDED", async () => {
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("mover") });
    const w = await collect({ labelSelector: "stage=live", resourceVersion: String((await api.listNamespacedCustomObject({ ...TA }) as Obj).metadata.resourceVersion) });
    await api.patchNamespacedCustomObject({ ...TA, name: "mover", body: { metadata: { labels: { stage: "live" } } } }, merge);
    await api.patchNamespacedCustomObject({ ...TA, name: "mover", body: { metadata: { labels: { stage: "retired" } } } }, merge);
    await eventually(() => w.events.length === 2, "enter and leave");
    w.req.abort();
    assert.deepEqual(w.events.map((e) => e.type), ["ADDED", "DELETED"]);
  });

  it("sends BOOKMARK events with the latest resourceVersion when asked to", async () => {
    const list = (await api.listNamespacedCustomObject({ ...TA })) as Obj;
    const w = await collect({ resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true });
    await eventually(() => w.events.some((e) => e.type === "BOOKMARK"), "a bookmark");
    w.req.abort();
    const bookmark = w.events.find((e) => e.type === "BOOKMARK")!.object;
    assert.equal(bookmark.kind, "TestAgent");
    assert.ok(Number(bookmark.metadata.resourceVersion) >= Number(list.metadata.resourceVersion));

    const plain = await collect({ resourceVersion: list.metadata.resourceVersion });
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("after-bookmark") });
    await eventually(() => plain.events.length > 0, "an event on a watch without bookmarks");
    plain.req.abort();
    assert.ok(plain.events.every((e) => e.type !== "BOOKMARK"));
  });

  it("answers a resourceVersion older than the history with an ERROR 410 Expired event and ends the stream", async () => {
    const before = (await api.createNamespacedCustomObject({ ...TA, body: testAgent("pre-compact") })) as Obj;
    server.compact();
    const w = await collect({ resourceVersion: before.metadata.resourceVersion });
    await eventually(() => w.ended() !== undefined, "the stream to end");
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0].type, "ERROR");
    assert.equal(w.events[0].object.code, 410);
    assert.equal(w.events[0].object.reason, "Expired");
    assert.match(String((w.events[0].object as { message?: string }).message), /^too old resource version: \d+ \(\d+\)$/);

    // A fresh list's resourceVersion is watchable again.
    const list = (await api.listNamespacedCustomObject({ ...TA })) as Obj;
    const fresh = await collect({ resourceVersion: list.metadata.resourceVersion });
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("post-compact") });
    await eventually(() => fresh.events.length === 1, "an event after re-list");
    fresh.req.abort();
    assert.equal(fresh.events[0].type, "ADDED");
  });

  it("keeps only historyLimit events for resumption", async () => {
    const small = await startWithFixture({ historyLimit: 2 });
    try {
      const smallApi = kubeConfigFor(small).makeApiClient(CustomObjectsApi);
      const first = (await smallApi.createNamespacedCustomObject({ ...TA, body: testAgent("h1") })) as Obj;
      for (const name of ["h2", "h3", "h4"]) await smallApi.createNamespacedCustomObject({ ...TA, body: testAgent(name) });
      const w = new Watch(kubeConfigFor(small));
      const events: string[] = [];
      let done = false;
      await w.watch(PATH, { resourceVersion: first.metadata.resourceVersion }, (type, obj) => events.push(`${type} ${(obj as Obj).code ?? ""}`), () => (done = true));
      await eventually(() => done, "the 410 stream to end");
      assert.deepEqual(events, ["ERROR 410"]);

      // History is kept per resource: many writes of another resource expire nothing here.
      const last = (await smallApi.getNamespacedCustomObject({ ...TA, name: "h4" })) as Obj;
      const core = kubeConfigFor(small).makeApiClient(CoreV1Api);
      for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: "default", body: { metadata: { name: `cm-${i}` } } });
      const later: string[] = [];
      const req = await w.watch(PATH, { resourceVersion: last.metadata.resourceVersion }, (type, obj) => later.push(`${type} ${(obj as Obj).metadata?.name ?? ""}`), () => {});
      await smallApi.createNamespacedCustomObject({ ...TA, body: testAgent("h5") });
      await eventually(() => later.length > 0, "an event for h5");
      req.abort();
      assert.deepEqual(later, ["ADDED h5"]);
    } finally {
      await small.stop();
    }
  });

  it("an informer loses no event across dropped watches, 410 Gone and a restart", async () => {
    const listFn = () => api.listNamespacedCustomObject({ ...TA, labelSelector: "informed=yes" }) as Promise<any>;
    const informer = makeInformer(kc, PATH, listFn, "informed=yes");
    let errors = 0;
    const restartOnError = () => {
      errors++;
      setTimeout(() => informer.start().catch(() => restartOnError()), 20);
    };
    informer.on("error", restartOnError);
    await informer.start();
    const names = () => new Set(informer.list("default").map((o: KubernetesObject) => o.metadata!.name!));
    const make = (name: string) =>
      api.createNamespacedCustomObject({ ...TA, body: { ...testAgent(name), metadata: { name, labels: { informed: "yes" } } } });
    try {
      await make("inf-1");
      await eventually(() => names().has("inf-1"), "inf-1 via the watch");

      server.dropWatches(); // abrupt: the informer errors and is restarted
      await make("inf-2");
      await eventually(() => names().has("inf-2"), "inf-2 after an abrupt drop");
      assert.ok(errors >= 1, "an abrupt drop reaches the informer as an error");

      const listsBefore = server.requests.filter((r) => r.verb === "list" && r.resource === "testagents").length;
      server.compact();
      server.dropWatches({ graceful: true }); // the informer resumes from a compacted version: 410, then re-lists
      await make("inf-3");
      await eventually(() => names().has("inf-3"), "inf-3 after 410");
      const listsAfter = server.requests.filter((r) => r.verb === "list" && r.resource === "testagents").length;
      assert.ok(listsAfter > listsBefore, "the 410 made the informer re-list");

      await server.restart();
      await make("inf-4");
      await api.deleteNamespacedCustomObject({ ...TA, name: "inf-1" });
      await eventually(() => names().has("inf-4") && !names().has("inf-1"), "changes after a restart");
      assert.deepEqual([...names()].sort(), ["inf-2", "inf-3", "inf-4"]);
    } finally {
      informer.off("error", restartOnError);
      await informer.stop();
    }
  });
});
