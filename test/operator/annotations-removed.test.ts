// One-shot annotations are removed once acted on: `idsync.dev/run` after its run, an invalid one at
// once, `idsync.dev/allow-deletes` once handled (here: nothing to release). The record stays in
// status (lastHandledRunRequest, lastHandledAllowDeletes); the same request written again after its
// removal runs again; and `idsync drift --cluster` finds the cluster as declared in git — no
// annotation left behind to report for ever.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { AnyResource } from "../../src/config/model.ts";
import { validateResources } from "../../src/config/index.ts";
import { drift } from "../../src/gitops/index.ts";
import {
  ADMIN_TOKEN,
  NS,
  annotate,
  apply,
  directoryMa,
  directoryOutboundRule,
  eventually,
  get,
  hrInboundRule,
  hrMa,
  operatorScenario,
  person,
  writeHr,
  type Obj,
} from "./helpers.ts";

const RUN = "idsync.dev/run";
const ALLOW = "idsync.dev/allow-deletes";

describe("one-shot annotations", () => {
  let declared: Obj[] = [];
  const s = operatorScenario("operator_annotations_removed", async (cluster) => {
    writeHr(cluster.dir, [person(1), person(2)]);
    declared = [hrMa(cluster.dir), directoryMa(cluster.dir), hrInboundRule(), directoryOutboundRule()];
    for (const o of declared) await apply(cluster, o);
  });

  const hr = () => get(s.cluster, "ManagementAgent", "hr");
  const fullImports = async () => {
    const text = await (await fetch(`http://127.0.0.1:${await s.operator.port}/metrics`)).text();
    return [...text.matchAll(/^idsync_runs_total\{ma="hr",namespace="idsync-test",profile="full-import",result="[^"]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };

  it("are removed once acted on, with the record in status", async () => {
    await eventually(async () => (await hr())?.status?.connectorSpace?.total === 2, "hr imported");
    const before = await fullImports();

    await annotate(s.cluster, "ManagementAgent", "hr", { [RUN]: "full-import" });
    const ran = await eventually(async () => {
      const o = await hr();
      return o?.status?.lastHandledRunRequest === "full-import" && o.metadata.annotations?.[RUN] === undefined ? o : undefined;
    }, "the run annotation to be handled and removed");
    assert.equal(ran.status.lastRun.profile, "full-import");
    assert.equal(await fullImports(), before + 1);

    // The same request again, after its removal, is a new request.
    await annotate(s.cluster, "ManagementAgent", "hr", { [RUN]: "full-import" });
    await eventually(async () => (await fullImports()) === before + 2 && (await hr())?.metadata.annotations?.[RUN] === undefined, "the repeated request to run and be removed");

    // Not a profile: refused (an Event says why), and removed all the same.
    await annotate(s.cluster, "ManagementAgent", "hr", { [RUN]: "bogus" });
    await eventually(async () => {
      const o = await hr();
      return o?.status?.lastHandledRunRequest === "bogus" && o.metadata.annotations?.[RUN] === undefined;
    }, "the invalid request to be handled and removed");

    // Nothing held: the release is handled as nothing to do, and removed.
    await annotate(s.cluster, "ManagementAgent", "directory", { [ALLOW]: "5" });
    await eventually(async () => {
      const o = await get(s.cluster, "ManagementAgent", "directory");
      return o?.status?.lastHandledAllowDeletes === "5" && o.metadata.annotations?.[ALLOW] === undefined;
    }, "allow-deletes to be handled and removed");
    const events = await s.cluster.core.listNamespacedEvent({ namespace: NS });
    assert.ok(events.items.some((e) => e.involvedObject.name === "hr" && e.reason === "InvalidRunRequest"));
    assert.ok(events.items.some((e) => e.involvedObject.name === "directory" && e.reason === "NothingToRelease"));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await fullImports(), before + 2, "no request ran twice");
  });

  it("leave nothing for drift --cluster to report", async () => {
    const kubeconfig = join(s.cluster.dir, "admin.kubeconfig");
    s.cluster.server.writeKubeconfig(kubeconfig, { token: ADMIN_TOKEN, namespace: NS });
    const { config, errors } = validateResources(structuredClone(declared) as unknown as AnyResource[]);
    assert.deepEqual(errors, []);
    const report = await drift({ declared: config!, configuration: "git", cluster: { kubeconfig, namespace: NS } });
    assert.deepEqual(report.config[0].diff.resources, [], "the cluster holds what git declares");
    assert.equal(report.summary.changes, false);
  });
});
