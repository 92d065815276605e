// In the operator, CSV files live only under the roots the chart declares (--csv-root NAME=DIR):
// a path is `<root>/<path inside it>`. An absolute path (`/tmp/…/secret-data.csv`, mode 600) and a
// `..` that leaves the root (`test/../../tmp/…/exfil.csv`) are refused at validation — Ready=False,
// InvalidSpec, with a message saying why — so nothing is read from or written to them, while an MA
// whose file is under a root is applied and imported as usual.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { runOperator } from "../../src/operator/index.ts";
import { HR_COLUMNS, writeCsv } from "../engine/builders.ts";
import { apply, condition, CSV_ROOT, eventually, get, hrInboundRule, hrMa, operatorScenario, person, writeHr, type Obj } from "./helpers.ts";

const outside = mkdtempSync(join(tmpdir(), "idsync-outside-"));
after(() => rmSync(outside, { recursive: true, force: true }));
const secret = join(outside, "secret-data.csv");

function maWithPath(dir: string, name: string, path: string): Obj {
  const ma = hrMa(dir);
  ma.metadata.name = name;
  ma.spec.connector.csv.path = path;
  return ma;
}

describe("CSV paths in the operator", () => {
  const s = operatorScenario("operator_csv_paths", async (cluster) => {
    writeHr(cluster.dir, [person(1), person(2)]);
    writeCsv(secret, HR_COLUMNS, [person(7, { givenName: "Secret" })]);
    chmodSync(secret, 0o600);
  });

  it("refuses absolute paths and '..' out of the root at validation, with the reason in the status", async () => {
    const exfil = `${CSV_ROOT}/${relative(s.cluster.dir, join(outside, "exfil", "exfil.csv"))}`;
    assert.match(exfil, /^test\/\.\.\//);
    await apply(s.cluster, maWithPath(s.cluster.dir, "leak", secret));
    await apply(s.cluster, maWithPath(s.cluster.dir, "exfil", exfil));
    await apply(s.cluster, maWithPath(s.cluster.dir, "elsewhere", "hr-exports/hr.csv"));
    await apply(s.cluster, hrMa(s.cluster.dir));
    await apply(s.cluster, hrInboundRule());

    const verdict = async (name: string) =>
      eventually(async () => {
        const c = condition(await get(s.cluster, "ManagementAgent", name), "Ready");
        return c?.reason === "InvalidSpec" ? c : undefined;
      }, `${name} Ready=False InvalidSpec`);
    const leak = await verdict("leak");
    assert.equal(leak.status, "False");
    assert.match(leak.message, /spec\.connector\.csv\.path: '.*secret-data\.csv' is an absolute path: in the operator a CSV path is '<root>\/<path inside it>'.*\(test\)/);
    assert.match((await verdict("exfil")).message, /spec\.connector\.csv\.path: 'test\/\.\.\/.*exfil\.csv' leaves CSV root 'test'/);
    assert.match((await verdict("elsewhere")).message, /'hr-exports\/hr\.csv' does not start with a CSV root: .* one of test/);

    // The MA under the root is applied and imported meanwhile.
    await eventually(async () => (await get(s.cluster, "ManagementAgent", "hr"))?.status?.connectorSpace?.total === 2 || undefined, "hr imported from test/hr.csv");
    assert.ok(!existsSync(join(outside, "exfil")), "no directory was created outside the root");
    for (const name of ["leak", "exfil", "elsewhere"]) {
      const o = await get(s.cluster, "ManagementAgent", name);
      assert.equal(o?.status?.lastRun, undefined, `${name} was never applied, so never run`);
    }
  });

  it("refuses a malformed --csv-root at start, before anything runs", async () => {
    for (const [roots, message] of [
      [["Not A Name=/data"], /--csv-root 'Not A Name=\/data': expected NAME=DIR/],
      [["hr=relative/dir"], /--csv-root 'hr=relative\/dir': the directory must be an absolute path/],
      [["hr=/a", "hr=/b"], /root 'hr' is declared twice/],
    ] as const) {
      const stop = new AbortController();
      const started = runOperator({ kubeconfig: s.cluster.operatorKubeconfig, csvRoots: [...roots], handleSignals: false, metricsPort: 0, metricsHost: "127.0.0.1", signal: stop.signal });
      const outcome = await Promise.race([started.then(() => "returned", (e: Error) => e), new Promise((r) => setTimeout(() => r("still running"), 5000))]);
      stop.abort();
      await started.catch(() => undefined);
      assert.ok(outcome instanceof Error, `${roots.join(" ")}: ${String(outcome)}`);
      assert.match(outcome.message, message);
    }
  });
});
