// Shared by the test API server's own tests: a server with the fixture CRD, clients for it, and
// an assertion for the Status a failed call carries.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { startApiServer, type ApiServer, type ApiServerOptions } from "./server.ts";

export const FIXTURE_CRD = fileURLToPath(new URL("./fixtures/testagents.yaml", import.meta.url));
export const FIXTURE_CR = fileURLToPath(new URL("./fixtures/testagent-hr.yaml", import.meta.url));

/** Where a TestAgent lives, as CustomObjectsApi wants it. */
export const TA = { group: "idsync.dev", version: "v1alpha1", namespace: "default", plural: "testagents" } as const;

export function startWithFixture(opts: ApiServerOptions = {}): Promise<ApiServer> {
  return startApiServer({ crdFiles: [FIXTURE_CRD], ...opts });
}

export function kubeConfigFor(server: ApiServer, token?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig({ token }));
  return kc;
}

export function testAgent(name: string, spec: Record<string, unknown> = { connector: { type: "csv", path: "hr.csv" } }) {
  return { apiVersion: "idsync.dev/v1alpha1", kind: "TestAgent", metadata: { name }, spec };
}

export interface StatusBody {
  kind: string;
  status: string;
  reason?: string;
  code: number;
  message: string;
  details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason: string; message: string; field?: string }> };
}

/** Awaits a call that must fail with `code`; returns the Status the server sent. */
export async function expectStatus(call: Promise<unknown>, code: number): Promise<StatusBody> {
  try {
    await call;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected an ApiException, got ${String(e)}`);
    assert.equal(e.code, code, `expected HTTP ${code}, got ${e.code}: ${JSON.stringify(e.body)}`);
    const body = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as StatusBody;
    assert.equal(body.kind, "Status");
    assert.equal(body.code, code);
    return body;
  }
  assert.fail(`expected HTTP ${code}, but the call succeeded`);
}

/** Resolves when `predicate` holds, polling; fails the test (not by timing) if it never does. */
export async function eventually(predicate: () => boolean, what: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`never happened: ${what}`);
}
