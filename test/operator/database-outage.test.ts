// The database goes away under a running operator (an immediate shutdown, as in a crash or a
// failover): the process keeps running and serving its probes, /readyz says not ready and why
// (without the password), a run asked for meanwhile fails once — logged, counted, an Event, the MA's
// status — instead of crashing the process or retrying in a loop; once the database is back the
// operator is ready again and runs work.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startOwnPostgres, withPassword, type OwnServer } from "../cli/db-trouble.ts";
import {
  NS,
  annotate,
  applyHrToDirectory,
  condition,
  eventually,
  get,
  person,
  readCsv,
  startCluster,
  startOperator,
  writeHr,
  type Cluster,
  type RunningOperator,
} from "./helpers.ts";
import { join } from "node:path";

const PASSWORD = "s3cret-pw";

const probe = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
};

describe("the database goes away under the operator", () => {
  let cluster: Cluster;
  let server: OwnServer;
  let operator: RunningOperator | undefined;
  let settled = false;
  before(async () => {
    cluster = await startCluster();
    server = await startOwnPostgres();
  });
  after(async () => {
    await operator?.stop();
    await server?.stop();
    await cluster?.close();
  });

  it("keeps serving, is not ready while it is gone, fails runs once, and recovers", async () => {
    writeHr(cluster.dir, [person(1), person(2)]);
    await applyHrToDirectory(cluster);
    operator = startOperator(cluster, withPassword(server.url, PASSWORD), { databaseTimeouts: { connectTimeoutMs: 2000, statementTimeoutMs: 5000 } });
    operator.done.finally(() => (settled = true));
    const port = await operator.port;
    await eventually(async () => (await probe(port, "/readyz")).status === 200, "ready");
    await eventually(() => readCsv(join(cluster.dir, "directory.csv")).length === 2, "two accounts exported");

    await server.halt();
    const notReady = await eventually(async () => {
      const r = await probe(port, "/readyz");
      return r.status === 503 ? r : undefined;
    }, "/readyz to say not ready");
    assert.match(notReady.text, /^database: the database at postgres:\/\/postgres:\*{4}@127\.0\.0\.1:\d+\/postgres (is unreachable \(connection refused\)|closed the connection .*)$/m, notReady.text);
    assert.equal((await probe(port, "/healthz")).status, 200, "alive all the same");

    // A run asked for while the database is gone fails, visibly, once.
    await annotate(cluster, "ManagementAgent", "hr", { "idsync.dev/run": "full-import@outage" });
    const failed = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "hr");
      return condition(o, "Ready")?.reason === "RunFailed" && o?.status?.lastHandledRunRequest === "full-import@outage" ? o : undefined;
    }, "hr's status to show the failed run");
    assert.equal(condition(failed, "Ready")!.status, "False");
    assert.match(condition(failed, "Ready")!.message, /^full-import failed at .*: the database at postgres:\/\/postgres:\*{4}@127\.0\.0\.1:\d+\/postgres \(schema idsync_[a-z0-9_]+\) is unreachable \(connection refused\)$/);
    const events = await cluster.core.listNamespacedEvent({ namespace: NS });
    assert.ok(events.items.some((e) => e.involvedObject.name === "hr" && e.reason === "RunFailed" && /is unreachable/.test(e.message ?? "")), "a RunFailed Event");
    await new Promise((r) => setTimeout(r, 1500));
    const failures = operator.logs.filter((l) => l.includes('"run failed"') && l.includes("full-import"));
    assert.equal(failures.length, 1, `the failed request is not retried in a loop:\n${failures.join("\n")}`);
    assert.ok(!operator.logs.some((l) => l.includes(PASSWORD)), "the password is never logged");
    assert.equal(settled, false, "the operator is still running");

    await server.resume();
    await eventually(async () => (await probe(port, "/readyz")).status === 200, "ready again");
    writeHr(cluster.dir, [person(1), person(2), person(3)]);
    await annotate(cluster, "ManagementAgent", "hr", { "idsync.dev/run": "cycle@back" });
    await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "hr");
      return condition(o, "Ready")?.status === "True" && o?.status?.lastHandledRunRequest === "cycle@back" ? o : undefined;
    }, "hr Ready after a run with the database back");
    await annotate(cluster, "ManagementAgent", "directory", { "idsync.dev/run": "export@back" });
    await eventually(() => readCsv(join(cluster.dir, "directory.csv")).length === 3, "the third account exported");
    assert.equal(settled, false);
  });
});
