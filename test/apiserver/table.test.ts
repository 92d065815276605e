// Server-side printing: a Table built from the CRD's additionalPrinterColumns when the client asks
// for one (kubectl get does), plain objects otherwise.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { ApiServer } from "./server.ts";
import { kubeConfigFor, startWithFixture, TA, testAgent } from "./helpers.ts";
import { humanDuration } from "./table.ts";

const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

describe("Table output", () => {
  let server: ApiServer;
  before(async () => {
    server = await startWithFixture();
    const api = kubeConfigFor(server).makeApiClient(CustomObjectsApi);
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("hr") });
    await api.createNamespacedCustomObject({ ...TA, body: testAgent("ldap", { connector: { type: "ldap" } }) });
    await api.patchNamespacedCustomObjectStatus(
      { ...TA, name: "hr", body: { status: { conditions: [{ type: "Synced", status: "False" }, { type: "Ready", status: "True" }] } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  });
  after(() => server.stop());

  it("fills the printer columns, a filter expression included", async () => {
    const res = await fetch(`${server.url}/apis/idsync.dev/v1alpha1/namespaces/default/testagents`, { headers: { accept: TABLE } });
    const table = (await res.json()) as {
      kind: string;
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{ cells: unknown[]; object: { kind: string; metadata: { name: string } } }>;
    };
    assert.equal(table.kind, "Table");
    assert.deepEqual(table.columnDefinitions.map((c) => c.name), ["Name", "Type", "Ready", "Max Deletes", "Age"]);
    assert.equal(table.columnDefinitions[3].priority, 1);
    assert.deepEqual(table.rows.map((r) => r.cells.slice(0, 4)), [["hr", "csv", "True", 500], ["ldap", "ldap", null, 500]]);
    assert.match(String(table.rows[0].cells[4]), /^\d+s$/);
    assert.equal(table.rows[0].object.kind, "PartialObjectMetadata");
  });

  it("answers a single get as a one-row Table, and plain JSON to plain clients", async () => {
    const one = (await (await fetch(`${server.url}/apis/idsync.dev/v1alpha1/namespaces/default/testagents/ldap`, { headers: { accept: TABLE } })).json()) as { rows: unknown[] };
    assert.equal(one.rows.length, 1);
    const plain = (await (await fetch(`${server.url}/apis/idsync.dev/v1alpha1/namespaces/default/testagents/ldap`)).json()) as { kind: string };
    assert.equal(plain.kind, "TestAgent");
  });

  it("renders ages as kubectl users know them", () => {
    assert.equal(humanDuration(45_000), "45s");
    assert.equal(humanDuration(5 * 60_000 + 3_000), "5m3s");
    assert.equal(humanDuration(125 * 60_000), "125m");
    assert.equal(humanDuration(5 * 3_600_000 + 60_000), "5h1m");
    assert.equal(humanDuration(3 * 86_400_000), "3d");
    assert.equal(humanDuration(400 * 86_400_000), "400d");
  });
});
