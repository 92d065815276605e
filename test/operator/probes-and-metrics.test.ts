// /healthz, /readyz and /metrics of a running operator: not ready while the database is not
// reachable; ready once the caches synced and the database answers; metrics count the runs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { startApiServer } from "../apiserver/server.ts";
import { runOperator } from "../../src/operator/index.ts";
import { silentLogger } from "../../src/operator/log.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import {
  apply,
  directoryMa,
  directoryOutboundRule,
  eventually,
  hrInboundRule,
  hrMa,
  person,
  startCluster,
  startOperator,
  writeHr,
  type Cluster,
  type RunningOperator,
} from "./helpers.ts";

const fetchText = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
};

describe("probes and metrics", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let operator: RunningOperator | undefined;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_probes");
  });
  after(async () => {
    await operator?.stop();
    await db?.drop();
    await cluster?.close();
  });

  it("is alive but not ready while the database is unreachable", async () => {
    // Port 1 on loopback: nothing listens there.
    const unreachable = startOperator(cluster, "postgres://idsync:secret@127.0.0.1:1/idsync");
    try {
      const port = await unreachable.port;
      assert.equal((await fetchText(port, "/healthz")).status, 200);
      const ready = await fetchText(port, "/readyz");
      assert.equal(ready.status, 503);
      assert.match(ready.text, /database: not opened yet/);
      await eventually(() => unreachable.logs.some((l) => l.includes("database not reachable")) || undefined, "a log line about the database");
      assert.ok(!unreachable.logs.some((l) => l.includes("secret")), "the password is not logged");
    } finally {
      await unreachable.stop();
    }
  });

  it("is not ready without the CRDs, and still shuts down", async () => {
    const bare = await startApiServer({ crdFiles: [] });
    const kubeconfig = join(cluster.dir, "bare.kubeconfig");
    bare.writeKubeconfig(kubeconfig);
    const stop = new AbortController();
    let port = 0;
    const done = runOperator({ kubeconfig, database: db.url, metricsPort: 0, metricsHost: "127.0.0.1", handleSignals: false, logger: process.env.IDSYNC_TEST_LOGS ? undefined : silentLogger, signal: stop.signal, onListening: (p) => (port = p), informers: { backoffInitialMs: 20, backoffMaxMs: 100 } });
    try {
      const ready = await eventually(async () => (port ? await fetchText(port, "/readyz") : undefined), "/readyz to answer");
      assert.equal(ready.status, 503);
      assert.match(ready.text, /informer managementagents: not synced/);
    } finally {
      stop.abort();
      await done;
      await bare.stop();
    }
  });

  it("is ready once synced, and counts runs", async () => {
    writeHr(cluster.dir, [person(1), person(2)]);
    for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir), hrInboundRule(), directoryOutboundRule()]) await apply(cluster, o);
    operator = startOperator(cluster, db.url);
    const port = await operator.port;
    const ready = await eventually(async () => {
      const r = await fetchText(port, "/readyz");
      return r.status === 200 ? r : undefined;
    }, "/readyz to answer 200");
    assert.match(ready.text, /informer managementagents: synced/);
    assert.match(ready.text, /database: ok/);

    const metrics = await eventually(async () => {
      const m = (await fetchText(port, "/metrics")).text;
      return /idsync_runs_total\{ma="directory",namespace="idsync-test",profile="export",result="success"\} 1/.test(m) && /^idsync_pending_exports\{ma="directory",namespace="idsync-test"\} 0$/m.test(m) ? m : undefined;
    }, "the export to be counted");
    assert.match(metrics, /^idsync_runs_total\{ma="hr",namespace="idsync-test",profile="full-import",result="success"\} 1$/m);
    assert.match(metrics, /^idsync_objects_processed_total\{change="projections",ma="hr",namespace="idsync-test"\} 2$/m);
    assert.match(metrics, /^idsync_run_duration_seconds_count\{ma="hr",namespace="idsync-test",profile="full-sync"\} 1$/m);
    assert.match(metrics, /^idsync_leader 1$/m);
    assert.match(metrics, /^idsync_workqueue_depth \d+$/m);
    assert.match(metrics, /^idsync_pending_exports\{ma="directory",namespace="idsync-test"\} 0$/m);
  });
});
