// The container entrypoint, `idsync operator`, as a real process: kubeconfig from a flag, the
// database URL and the Lease's namespace from the environment (as the chart sets them), leads,
// works, and on SIGTERM releases the lease and exits 0.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { apply, csvRootOf, eventually, get, hrInboundRule, hrMa, LEASE, OPERATOR_NS, person, startCluster, writeHr, type Cluster } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/idsync.js", import.meta.url));

describe("idsync operator", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_cli");
  });
  after(async () => {
    await db?.drop();
    await cluster?.close();
  });

  it("runs from the command line and shuts down cleanly on SIGTERM", async () => {
    writeHr(cluster.dir, [person(1)]);
    await apply(cluster, hrMa(cluster.dir));
    await apply(cluster, hrInboundRule());
    const child = spawn(process.execPath, [BIN, "operator", "--kubeconfig", cluster.operatorKubeconfig, "--metrics-port", "0", "--csv-root", csvRootOf(cluster)], {
      env: { ...process.env, IDSYNC_DATABASE_URL: db.url, POD_NAMESPACE: OPERATOR_NS, POD_NAME: "idsync-abc", IDSYNC_LEASE_NAME: LEASE },
      cwd: join(cluster.dir),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const killer = () => child.kill("SIGKILL");
    process.on("exit", killer);
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await eventually(async () => (await get(cluster, "ManagementAgent", "hr"))?.status?.connectorSpace?.total === 1 || undefined, "hr imported by the CLI operator");
      const lease = await cluster.coordination.readNamespacedLease({ name: LEASE, namespace: OPERATOR_NS });
      assert.match(lease.spec!.holderIdentity!, /^idsync-abc_/);
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      const released = await cluster.coordination.readNamespacedLease({ name: LEASE, namespace: OPERATOR_NS });
      assert.equal(released.spec!.holderIdentity, "");
      assert.ok(out.split("\n").filter(Boolean).every((l) => JSON.parse(l).msg), "every stdout line is a JSON log record");
      assert.doesNotMatch(out, new RegExp(new URL(db.url).password || "no-password-in-url"));
    } finally {
      child.kill("SIGKILL");
      process.removeListener("exit", killer);
    }
  });
});
