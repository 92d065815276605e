// `idsync operator` and its kubeconfig, as a real process: a mistake is one line on stderr and
// exit 1 at start, not a warning retried forever. No kubeconfig and not in a cluster says so; a
// plain http:// API server (the test API server, `npm run apiserver`) is refused unless the user
// says --insecure-skip-tls-verify, and then works.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { idsync } from "../engine/cli-process.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { eventually, LEASE, OPERATOR_NS, startCluster, type Cluster } from "./helpers.ts";

// Long enough for tsx to start the CLI on a busy machine; an operator still retrying by then has failed.
const QUICKLY_MS = 25_000;

describe("idsync operator's kubeconfig", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let home: string;
  let plainHttp: string;
  // Nothing to find: no $KUBECONFIG, an empty home, not in a cluster; a database that is not there
  // (the kubeconfig is judged before the database is opened).
  const nowhere = () => ({ HOME: home, KUBECONFIG: "", KUBERNETES_SERVICE_HOST: "", KUBERNETES_SERVICE_PORT: "", IDSYNC_DATABASE_URL: "postgres://idsync@127.0.0.1:1/idsync" });
  before(async () => {
    [cluster, db] = await Promise.all([startCluster(), testDatabase("operator_kubeconfig")]);
    home = mkdtempSync(join(tmpdir(), "idsync-home-"));
    // The operator's kubeconfig for the test API server (http://), without insecure-skip-tls-verify.
    plainHttp = join(cluster.dir, "plain-http.kubeconfig");
    const text = readFileSync(cluster.operatorKubeconfig, "utf8");
    assert.match(text, /server: http:\/\//);
    writeFileSync(plainHttp, text.replace(/^\s*insecure-skip-tls-verify: true\n/m, ""), { mode: 0o600 });
    assert.doesNotMatch(readFileSync(plainHttp, "utf8"), /insecure-skip-tls-verify/);
  });
  after(async () => {
    await db?.drop();
    await cluster?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("none at all, outside a cluster: one clear line and exit 1", async () => {
    const started = Date.now();
    const r = await idsync(["operator", "--metrics-port", "0"], { env: nowhere(), killAfterMs: QUICKLY_MS });
    assert.equal(r.code, 1, `exit code (killed after ${Date.now() - started} ms means it kept retrying); stderr: ${r.stderr}`);
    assert.deepEqual(r.stderr.trim().split("\n"), [
      "error: no Kubernetes API server to talk to: not running in a cluster and no kubeconfig (pass --kubeconfig FILE, or set KUBECONFIG, or create ~/.kube/config)",
    ]);
    assert.equal(r.stdout, "", "nothing was started, so nothing logged");
  });

  it("a missing kubeconfig file: one line naming it", async () => {
    const missing = join(home, "nope.kubeconfig");
    const r = await idsync(["operator", "--kubeconfig", missing, "--metrics-port", "0"], { env: nowhere(), killAfterMs: QUICKLY_MS });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: cannot read the kubeconfig ${missing}: .*ENOENT`));
  });

  it("a plain http:// API server without --insecure-skip-tls-verify: one line naming the server and the flag", async () => {
    const r = await idsync(["operator", "--kubeconfig", plainHttp, "--metrics-port", "0"], { env: nowhere(), killAfterMs: QUICKLY_MS });
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stderr.trim().split("\n"), [
      `error: the API server ${cluster.server.url} is plain HTTP (no TLS): pass --insecure-skip-tls-verify (or set insecure-skip-tls-verify: true in the kubeconfig) to talk to it anyway`,
    ]);
  });

  it("a plain http:// API server with --insecure-skip-tls-verify: the operator works and stops cleanly", async () => {
    let child!: ChildProcess;
    const exited = idsync(["operator", "--kubeconfig", plainHttp, "--insecure-skip-tls-verify", "--metrics-port", "0"], {
      env: { ...nowhere(), IDSYNC_DATABASE_URL: db.url, POD_NAMESPACE: OPERATOR_NS, POD_NAME: "idsync-http", IDSYNC_LEASE_NAME: LEASE },
      onSpawn: (c) => (child = c),
      killAfterMs: 120_000,
    });
    try {
      // Leading means its informers listed and watched, and it wrote the Lease: the API works.
      await eventually(async () => {
        const lease = await cluster.coordination.readNamespacedLease({ name: LEASE, namespace: OPERATOR_NS });
        return lease.spec?.holderIdentity?.startsWith("idsync-http_");
      }, "the operator to take the lease over plain HTTP");
    } finally {
      child.kill("SIGTERM");
    }
    const r = await exited;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--insecure-skip-tls-verify: the API server's identity is not verified/);
  });
});
