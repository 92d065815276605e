// The real kubectl against the test API server: discovery good enough to apply CRDs and custom
// resources (--validate=false: no OpenAPI here), get them (server-side Table printing) and delete
// them; `kubectl create namespace|secret|configmap`, which send protobuf.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import yaml from "js-yaml";
import { startApiServer, type ApiServer } from "./server.ts";
import { FIXTURE_CR, FIXTURE_CRD } from "./helpers.ts";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CRDS = path.join(REPO, "crds");
const EXAMPLES = path.join(REPO, "examples");

/** Why kubectl cannot run here, or undefined when it can. */
async function kubectlMissing(): Promise<string | undefined> {
  try {
    await run("kubectl", ["version", "--client"], { timeout: 60_000 });
    return undefined;
  } catch (e) {
    return `kubectl is not installed on this machine (${(e as Error).message.split("\n")[0]}); apt-get install kubernetes-client provides one`;
  }
}

function yamlFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return yamlFiles(full);
    return /\.ya?ml$/.test(name) ? [full] : [];
  });
}

/** The example files whose documents are all objects of the given kinds. */
function exampleFilesOf(kinds: Set<string>): string[] {
  return yamlFiles(EXAMPLES).filter((file) => {
    const docs = yaml.loadAll(readFileSync(file, "utf8")).filter((d) => d) as Array<{ kind?: string }>;
    return docs.length > 0 && docs.every((d) => d.kind !== undefined && kinds.has(d.kind));
  });
}

describe("kubectl", async () => {
  const missing = await kubectlMissing();
  let server: ApiServer;
  let work: string;
  let kubectl: (...args: string[]) => Promise<string>;
  before(async () => {
    if (missing) return;
    server = await startApiServer({ crdFiles: [] });
    work = mkdtempSync(path.join(tmpdir(), "idsync-kubectl-"));
    const kubeconfig = path.join(work, "kubeconfig");
    server.writeKubeconfig(kubeconfig);
    kubectl = async (...args) => {
      const { stdout } = await run(
        "kubectl",
        ["--kubeconfig", kubeconfig, "--server", server.url, "--cache-dir", path.join(work, "cache"), ...args],
        { timeout: 120_000, env: { ...process.env, KUBECONFIG: kubeconfig } },
      );
      return stdout;
    };
  });
  after(async () => {
    if (missing) return;
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("applies a CRD and a custom resource, gets and deletes it", { skip: missing }, async () => {
    assert.match(await kubectl("--validate=false", "apply", "-f", FIXTURE_CRD), /testagents.idsync.dev created/);
    assert.match(await kubectl("--validate=false", "apply", "-f", FIXTURE_CRD), /unchanged/);
    assert.match(await kubectl("--validate=false", "apply", "-f", FIXTURE_CR), /testagent.idsync.dev\/hr created/);

    const got = JSON.parse(await kubectl("get", "testagent", "hr", "-n", "default", "-o", "json"));
    assert.equal(got.spec.connector.path, "data/hr.csv");
    assert.equal(got.spec.deletionThreshold.maxDeletes, 500, "schema defaults applied");
    assert.ok(got.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]);
    assert.match(await kubectl("get", "ta"), /^NAME\s+TYPE\s+READY\s+AGE\nhr\s+csv\s+\S+\n$/);
    assert.match(await kubectl("get", "ta", "-o", "wide"), /^NAME\s+TYPE\s+READY\s+MAX DELETES\s+AGE\nhr\s+csv\s+500\s+\S+\n$/);

    assert.match(await kubectl("patch", "ta", "hr", "--type", "merge", "-p", '{"spec":{"stagingMode":true}}'), /patched/);
    assert.match(await kubectl("delete", "ta", "hr"), /testagent.idsync.dev "hr" deleted/);
    await assert.rejects(kubectl("get", "ta", "hr"), /NotFound|not found/);
  });

  it("creates a namespace, a Secret and a ConfigMap with kubectl create (protobuf bodies), and labels the Secret", { skip: missing }, async () => {
    assert.match(await kubectl("create", "namespace", "team-a"), /namespace\/team-a created/);
    assert.match(await kubectl("-n", "team-a", "create", "secret", "generic", "ldap-bind", "--from-literal=password=hunter2"), /secret\/ldap-bind created/);
    assert.match(await kubectl("-n", "team-a", "label", "secret", "ldap-bind", "idsync.dev/secret=true"), /labeled/);
    assert.match(await kubectl("-n", "team-a", "create", "configmap", "settings", "--from-literal=a=b"), /configmap\/settings created/);
    const secret = JSON.parse(await kubectl("-n", "team-a", "get", "secret", "ldap-bind", "-o", "json"));
    assert.equal(Buffer.from(secret.data.password, "base64").toString(), "hunter2");
    assert.deepEqual(secret.metadata.labels, { "idsync.dev/secret": "true" });
    assert.equal(secret.type, "Opaque");
    assert.match(await kubectl("get", "namespaces", "-o", "name"), /^namespace\/team-a$/m);
  });

  it("applies the CRDs in crds/ and every example custom resource, gets and deletes them", { skip: missing }, async (t) => {
    const crdFiles = yamlFiles(CRDS);
    if (crdFiles.length === 0) return t.skip("crds/ has no CRD files yet");
    await kubectl("--validate=false", "apply", "-f", CRDS);
    const kinds = new Set<string>();
    const plurals: string[] = [];
    for (const file of crdFiles) {
      for (const doc of yaml.loadAll(readFileSync(file, "utf8")) as Array<{ kind?: string; spec?: { names: { kind: string; plural: string } } }>) {
        if (doc?.kind === "CustomResourceDefinition" && doc.spec) {
          kinds.add(doc.spec.names.kind);
          plurals.push(doc.spec.names.plural);
        }
      }
    }
    const crds = await kubectl("get", "crd", "-o", "name");
    for (const plural of plurals) assert.match(crds, new RegExp(`${plural}\\.`));

    const examples = exampleFilesOf(kinds);
    for (const file of examples) await kubectl("--validate=false", "apply", "-f", file);
    const listed = await kubectl("get", plurals.join(","), "-o", "name");
    const expected = examples.flatMap((f) => (yaml.loadAll(readFileSync(f, "utf8")) as Array<{ metadata: { name: string } }>).map((d) => d.metadata.name));
    for (const name of expected) assert.match(listed, new RegExp(`/${name}$`, "m"));

    // Examples may share names (every example has a "directory" MA): a later apply updated the
    // same object, so a later delete may find it gone already.
    for (const file of examples) await kubectl("delete", "--ignore-not-found", "-f", file);
    assert.equal((await kubectl("get", plurals.join(","), "-o", "name")).trim(), "");
  });
});
