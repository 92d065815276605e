// Two operator replicas (real processes) → one leader does the work; SIGKILL it → the other takes
// over once the lease expires and carries on; SIGTERM a leader → it releases the lease and exits 0,
// and a standby takes over.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import {
  apply,
  csvRootOf,
  directoryMa,
  directoryOutboundRule,
  eventually,
  hrInboundRule,
  hrMa,
  LEASE,
  OPERATOR_NS,
  person,
  readCsv,
  startCluster,
  writeHr,
  type Cluster,
} from "./helpers.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/operator-process.ts", import.meta.url));
const children = new Set<ChildProcess>();
process.on("exit", () => children.forEach((c) => c.kill("SIGKILL")));

interface Replica {
  identity: string;
  child: ChildProcess;
  lines: string[];
  port: Promise<number>;
  exit: Promise<number | null>;
}

function startReplica(cluster: Cluster, database: string, identity: string): Replica {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
    env: {
      ...process.env,
      IDSYNC_TEST_KUBECONFIG: cluster.operatorKubeconfig,
      IDSYNC_TEST_OPERATOR_DATABASE: database,
      IDSYNC_TEST_IDENTITY: identity,
      IDSYNC_TEST_LEASE_NAMESPACE: OPERATOR_NS,
      // The operator reads its CSV roots from here when --csv-root is not given.
      IDSYNC_CSV_ROOTS: csvRootOf(cluster),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  const lines: string[] = [];
  let resolvePort!: (p: number) => void;
  const port = new Promise<number>((r) => (resolvePort = r));
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      lines.push(line);
      if (process.env.IDSYNC_TEST_LOGS) process.stderr.write(`[${identity}] ${line}\n`);
      const m = /"msg":"serving \/metrics[^"]*".*"port":(\d+)/.exec(line);
      if (m) resolvePort(Number(m[1]));
    }
  });
  const exit = new Promise<number | null>((r) => child.on("exit", (code) => (children.delete(child), r(code))));
  return { identity, child, lines, port, exit };
}

async function leaderGauge(r: Replica): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${await r.port}/metrics`)).text();
    const m = /^idsync_leader (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

describe("two operator replicas", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  const replicas: Replica[] = [];
  before(async () => {
    cluster = await startCluster();
    db = await testDatabase("operator_failover");
    writeHr(cluster.dir, [person(1), person(2)]);
    for (const o of [hrMa(cluster.dir), directoryMa(cluster.dir), hrInboundRule(), directoryOutboundRule()]) await apply(cluster, o);
  });
  after(async () => {
    for (const r of replicas) r.child.kill("SIGKILL");
    await Promise.all(replicas.map((r) => r.exit));
    await db?.drop();
    await cluster?.close();
  });

  const holder = async () => (await cluster.coordination.readNamespacedLease({ name: LEASE, namespace: OPERATOR_NS })).spec;

  it("elect one leader, fail over when it dies, hand over on SIGTERM", async () => {
    replicas.push(startReplica(cluster, db.url, "replica-1"), startReplica(cluster, db.url, "replica-2"));
    const first = await eventually(async () => {
      const h = (await holder().catch(() => undefined))?.holderIdentity;
      return replicas.find((r) => r.identity === h);
    }, "a leader");
    const standby = replicas.find((r) => r !== first)!;
    assert.equal(await eventually(() => leaderGauge(first).then((v) => v === 1 || undefined), "leader gauge 1 on the leader"), true);
    assert.equal(await leaderGauge(standby), 0, "the standby does not lead");

    const target = join(cluster.dir, "directory.csv");
    await eventually(() => readCsv(target).length === 2, "the leader to provision the directory");
    assert.ok(!standby.lines.some((l) => l.includes('"msg":"run finished"')), "the standby ran nothing");

    // The leader dies without a word: the standby takes over when the lease expires.
    first.child.kill("SIGKILL");
    await first.exit;
    await eventually(async () => (await holder())?.holderIdentity === standby.identity, "the standby to take the lease");
    await eventually(() => leaderGauge(standby).then((v) => v === 1 || undefined), "leader gauge 1 on the new leader");

    // And it does the work.
    const rule = hrInboundRule();
    rule.spec.attributeFlows[1] = { target: "displayName", expression: "source.sn" };
    await apply(cluster, rule);
    await eventually(() => readCsv(target).every((r) => r.displayName.startsWith("Family")) || undefined, "the new leader to apply the rule change");
    const transitions = (await holder())?.leaseTransitions ?? 0;
    assert.ok(transitions >= 1);

    // SIGTERM: graceful — the lease is released and a new standby takes over without waiting for expiry.
    const third = startReplica(cluster, db.url, "replica-3");
    replicas.push(third);
    await third.port;
    await eventually(() => third.lines.some((l) => l.includes('"msg":"caches synced"')) || undefined, "the third replica to sync");
    standby.child.kill("SIGTERM");
    assert.equal(await standby.exit, 0, "a SIGTERMed replica exits cleanly");
    assert.ok(standby.lines.some((l) => l.includes('"msg":"released the leader lease"')), "it released the lease");
    await eventually(async () => (await holder())?.holderIdentity === third.identity, "the third replica to lead");
  });
});
