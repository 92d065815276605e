// The informer against the test API server, through the real client-node: it must deliver every
// change — as an add, update or delete event — whatever happens to its watch: a silently hung
// connection (watchdog re-list), a compacted resourceVersion (410 Gone → re-list), an abrupt drop, an
// API server restart. Deletions that happened while no watch saw them come from the re-list diff.
import assert from "node:assert/strict";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, KubeConfig, Watch } from "@kubernetes/client-node";
import { Informer, type InformerEvent, type KubeObject, type RelistReason } from "../../src/operator/informer.ts";
import { RESOURCE_TYPES } from "../../src/operator/kube.ts";
import { eventually, GROUP, hrMa, NS, SA_TOKEN, startCluster, type Cluster } from "./helpers.ts";

/** A TCP proxy that can freeze the connections carrying watches: they stay open but go silent. */
async function startFreezableProxy(upstreamPort: number): Promise<{ port: number; freezeWatches(): void; close(): Promise<void> }> {
  const watches = new Set<Socket>();
  const all = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(upstreamPort, "127.0.0.1");
    all.add(client);
    all.add(upstream);
    let frozen = false;
    client.on("data", (chunk: Buffer) => {
      const line = chunk.toString("latin1", 0, Math.min(chunk.length, 512)).split("\r\n")[0];
      if (/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(line)) {
        if (line.includes("watch=true")) watches.add(client);
        else watches.delete(client);
      }
      if (!frozen) upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!frozen) client.write(chunk);
    });
    (client as Socket & { freeze?: () => void }).freeze = () => (frozen = true);
    const end = () => {
      client.destroy();
      upstream.destroy();
      all.delete(client);
      all.delete(upstream);
      watches.delete(client);
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    freezeWatches: () => watches.forEach((s) => (s as Socket & { freeze: () => void }).freeze()),
    close: () => {
      all.forEach((s) => s.destroy());
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function informerFor(server: string, relistIntervalMs: number) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", token: SA_TOKEN }],
    contexts: [{ name: "x", cluster: "c", user: "u", namespace: NS }],
    currentContext: "x",
  });
  const custom = kc.makeApiClient(CustomObjectsApi);
  const t = RESOURCE_TYPES.ManagementAgent;
  const events: Array<InformerEvent<KubeObject>> = [];
  const relists: RelistReason[] = [];
  const informer = new Informer<KubeObject>({
    name: "managementagents",
    watch: new Watch(kc),
    watchPath: `/apis/${t.group}/${t.version}/namespaces/${NS}/${t.plural}`,
    list: async (page) => custom.listNamespacedCustomObject({ ...GROUP, plural: t.plural, namespace: NS, limit: page.limit, _continue: page.continue }),
    relistIntervalMs,
    backoffInitialMs: 50,
    backoffMaxMs: 400,
    onRelist: (r) => relists.push(r),
  });
  informer.on((e) => events.push(e));
  return { informer, events, relists };
}

const seen = (events: Array<InformerEvent<KubeObject>>, type: string, name: string) => events.some((e) => e.type === type && e.object.metadata.name === name);

describe("informer recovery", () => {
  let cluster: Cluster;
  const ma = (name: string) => ({ ...hrMa("/tmp"), metadata: { name, namespace: NS } });
  const create = (name: string) => cluster.custom.createNamespacedCustomObject({ ...GROUP, namespace: NS, plural: "managementagents", body: ma(name) });
  const del = (name: string) => cluster.custom.deleteNamespacedCustomObject({ ...GROUP, namespace: NS, plural: "managementagents", name });
  before(async () => {
    cluster = await startCluster();
  });
  after(() => cluster?.close());

  it("re-lists when its watch hangs silently, and the diff delivers what the watch missed", async () => {
    const proxy = await startFreezableProxy(cluster.server.port);
    const { informer, events, relists } = informerFor(`http://127.0.0.1:${proxy.port}`, 1500);
    try {
      await create("before");
      informer.start();
      await informer.waitForSync();
      assert.ok(seen(events, "add", "before"));
      await eventually(() => cluster.server.openWatches() > 0, "the watch to be open");

      proxy.freezeWatches();
      await del("before");
      await create("during");
      await eventually(() => seen(events, "delete", "before") && seen(events, "add", "during"), "the missed delete and add", 20_000);
      assert.ok(relists.includes("periodic"), `a periodic re-list delivered them (re-lists: ${relists.join(", ")})`);
      assert.equal(informer.get(NS, "before"), undefined);
      assert.ok(informer.get(NS, "during"));
    } finally {
      await informer.stop();
      await proxy.close();
      await del("during").catch(() => undefined);
    }
  });

  it("re-lists on 410 Gone after a compaction, and survives drops and restarts", async () => {
    const { informer, events, relists } = informerFor(cluster.server.url, 600_000);
    try {
      informer.start();
      await informer.waitForSync();
      await create("kept");
      await create("doomed");
      await eventually(() => seen(events, "add", "doomed"), "the adds");

      // The watch ends like a server timeout, and its resourceVersion has been compacted away.
      cluster.server.compact();
      cluster.server.dropWatches({ graceful: true });
      await del("doomed");
      await eventually(() => seen(events, "delete", "doomed"), "the delete after the 410");
      assert.ok(relists.includes("expired"), `a re-list for 410 Gone (re-lists: ${relists.join(", ")})`);

      // Connection reset.
      cluster.server.dropWatches();
      await create("after-drop");
      await eventually(() => seen(events, "add", "after-drop"), "the add after an abrupt drop");

      // API server restart.
      await cluster.server.restart();
      await cluster.custom.patchNamespacedCustomObject(
        { ...GROUP, namespace: NS, plural: "managementagents", name: "kept", body: { spec: { stagingMode: true } } },
        (await import("./helpers.ts")).MERGE,
      );
      await eventually(() => events.some((e) => e.type === "update" && e.object.metadata.name === "kept"), "the update after a restart");
      assert.deepEqual(informer.list().map((o) => o.metadata.name).sort(), ["after-drop", "kept"]);
    } finally {
      await informer.stop();
    }
  });
});
