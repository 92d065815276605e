// The API says no early: the in-repo API server, serving the CRDs from crds/, refuses each bad
// ManagementAgent at create with 422 Invalid and the rule's message (x-kubernetes-validations, as a
// real API server does), through the real @kubernetes/client-node; and `kubectl apply` of it fails
// with that message when kubectl is on this machine. The cases are test/config/rejected-at-apply.ts,
// which `idsync validate` rejects the same way.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import yaml from "js-yaml";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { startApiServer, type ApiServer } from "./server.ts";
import { expectStatus, kubeConfigFor } from "./helpers.ts";
import { ACCEPTED_YAML, REJECTED_YAML, REJECTIONS, type Rejection } from "../config/rejected-at-apply.ts";

const run = promisify(execFile);
const MA = { group: "idsync.dev", version: "v1alpha1", namespace: "default", plural: "managementagents" } as const;
type Doc = { metadata: { name: string }; [k: string]: unknown };
const byName = new Map((yaml.loadAll(REJECTED_YAML) as Doc[]).map((d) => [d.metadata.name, d]));

/** The cause's message: the rule's message, or for a schema error the API server's own wording. */
function causeMessage(r: Rejection): RegExp {
  if (r.message === "is required") return /^Required value$/;
  return new RegExp(`^Invalid value: "object": ${r.message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

describe("ManagementAgents the API rejects at create", () => {
  let server: ApiServer;
  let api: CustomObjectsApi;
  before(async () => {
    server = await startApiServer(); // crds/*.yaml
    api = kubeConfigFor(server).makeApiClient(CustomObjectsApi);
  });
  after(() => server.stop());

  for (const r of REJECTIONS) {
    it(`${r.name}: 422 with "${r.message}"`, async () => {
      const status = await expectStatus(api.createNamespacedCustomObject({ ...MA, body: byName.get(r.name) }), 422);
      assert.equal(status.reason, "Invalid");
      const causes = status.details?.causes ?? [];
      assert.equal(causes.length, 1, JSON.stringify(causes));
      assert.match(causes[0].message, causeMessage(r));
      assert.equal(causes[0].reason, r.reason);
      // A real API server names the rule's fieldPath under its node; the in-repo one names the node.
      assert.ok(r.path === causes[0].field || r.path.startsWith(`${causes[0].field}.`), `${causes[0].field} for ${r.path}`);
      assert.ok(status.message.startsWith(`ManagementAgent.idsync.dev "${r.name}" is invalid: `), status.message);
      await expectStatus(api.getNamespacedCustomObject({ ...MA, name: r.name }), 404);
    });
  }

  it("accepts the settings each implemented connector takes", async () => {
    for (const doc of yaml.loadAll(ACCEPTED_YAML) as Doc[]) {
      await api.createNamespacedCustomObject({ ...MA, body: doc });
      await api.deleteNamespacedCustomObject({ ...MA, name: doc.metadata.name });
    }
  });

  it("refuses an update that switches an accepted MA to connector type postgres", async () => {
    const [hr] = yaml.loadAll(ACCEPTED_YAML) as Array<Doc & { spec: { connector: Record<string, unknown> } }>;
    const created = (await api.createNamespacedCustomObject({ ...MA, body: hr })) as typeof hr;
    created.spec.connector = { type: "postgres", postgres: { connectionSecretRef: { name: "hr-db", key: "url" }, table: "people" } };
    const status = await expectStatus(api.replaceNamespacedCustomObject({ ...MA, name: "hr", body: created }), 422);
    assert.match(status.message, /connector type postgres is not implemented yet: use csv or ldap$/);
    await api.deleteNamespacedCustomObject({ ...MA, name: "hr" });
  });
});

/** Why kubectl cannot run here, or undefined when it can. */
async function kubectlMissing(): Promise<string | undefined> {
  try {
    await run("kubectl", ["version", "--client"], { timeout: 60_000 });
    return undefined;
  } catch (e) {
    return `kubectl is not installed on this machine (${(e as Error).message.split("\n")[0]})`;
  }
}

describe("kubectl apply of a bad ManagementAgent", async () => {
  const missing = await kubectlMissing();
  let server: ApiServer;
  let work: string;
  let kubectl: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  before(async () => {
    if (missing) return;
    server = await startApiServer();
    work = mkdtempSync(path.join(tmpdir(), "idsync-rejected-"));
    const kubeconfig = path.join(work, "kubeconfig");
    server.writeKubeconfig(kubeconfig);
    kubectl = async (...args) => {
      try {
        const { stdout, stderr } = await run(
          "kubectl",
          ["--kubeconfig", kubeconfig, "--server", server.url, "--cache-dir", path.join(work, "cache"), "-n", "default", ...args],
          { timeout: 120_000, env: { ...process.env, KUBECONFIG: kubeconfig } },
        );
        return { code: 0, stdout, stderr };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
      }
    };
  });
  after(async () => {
    if (missing) return;
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("fails with each rule's message and creates none of them", { skip: missing }, async () => {
    const file = path.join(work, "rejected.yaml");
    writeFileSync(file, REJECTED_YAML);
    const result = await kubectl("--validate=false", "apply", "-f", file);
    assert.notEqual(result.code, 0, result.stdout);
    for (const r of REJECTIONS) {
      const line = result.stderr.split("\n").find((l) => l.includes(`"${r.name}"`));
      assert.ok(line, `no error for ${r.name} in:\n${result.stderr}`);
      assert.ok(line.includes(r.message === "is required" ? `${r.path}: Required value` : r.message), line);
    }
    assert.equal((await kubectl("get", "managementagents", "-o", "name")).stdout, "");
  });

  it("applies the accepted settings", { skip: missing }, async () => {
    const file = path.join(work, "accepted.yaml");
    writeFileSync(file, ACCEPTED_YAML);
    const result = await kubectl("--validate=false", "apply", "-f", file);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /managementagent.idsync.dev\/hr created/);
    assert.match((await kubectl("get", "ma", "directory", "-o", "jsonpath={.spec.connector.type}")).stdout, /^ldap$/);
  });
});
