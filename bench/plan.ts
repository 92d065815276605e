// Plan benchmark: a rule change touching every person (the directory's displayName flow), planned
// (simulated inside a rolled-back transaction) and then run for real (apply + the full syncs the
// change needs), on the same synchronized state. Target: the plan takes ≤ 2× the real full sync.
//
//   BENCH_PLAN_SIZE=100000   people (default 100000; e.g. 10000 for a quick check)
//   BENCH_ONLY=plan          run only this part (npm run bench)
import { mkdirSync } from "node:fs";
import type { ConfigSet } from "../src/config/model.ts";
import { openEngine } from "../src/engine/index.ts";
import { plan, renderPlanMarkdown } from "../src/gitops/index.ts";
import { openDatabase } from "../src/store/index.ts";
import { directoryOutbound, standardConfig } from "../test/engine/builders.ts";
import { people, writeHrCsv } from "./hr-data.ts";

import { freshDatabase, peakRssMb, printRows, timed, type Row } from "./report.ts";

/** The change under test: every directory account's displayName gets the department appended. */
function ruleChange(dir: string): ConfigSet {
  const base = standardConfig(dir);
  const flows = directoryOutbound().spec.attributeFlows!.map((f) =>
    f.target === "displayName" ? { ...f, expression: 'mv.displayName + " (" + mv.department + ")"' } : f,
  );
  return { ...base, syncRules: base.syncRules.map((r) => (r.metadata.name === "directory-outbound" ? directoryOutbound({ attributeFlows: flows }) : r)) };
}

export async function bench(serverUrl: string, dir: string): Promise<void> {
  const n = Number(process.env.BENCH_PLAN_SIZE ?? 100_000);
  mkdirSync(dir, { recursive: true });
  await writeHrCsv(`${dir}/hr.csv`, people(n, 42));
  const url = await freshDatabase(serverUrl, `idsync_bench_plan_${n}`);
  const db = await openDatabase({ url });
  const rows: Row[] = [];
  const add = (step: string, objects: number, seconds: number, note?: string) =>
    rows.push({ step, objects, seconds, peakRssMb: peakRssMb(), note });
  try {
    const engine = await openEngine({ database: db });
    await engine.apply(standardConfig(dir));
    const setup = await timed(() => engine.cycle());
    add("setup: apply + cycle (import, sync, export)", n, setup.seconds, setup.value.status);

    const proposed = ruleChange(dir);
    const planned = await timed(() => plan({ database: db, proposed, configuration: "bench" }));
    const touched = planned.value.data.managementAgents.find((m) => m.name === "directory");
    const markdown = renderPlanMarkdown(planned.value);
    add("plan of the rule change (rolled back)", n, planned.seconds, `${touched?.updates ?? 0} updates planned; Markdown ${markdown.length} chars`);

    const real = await timed(async () => {
      const applied = await engine.apply(proposed);
      const projecting = new Set(["hr"]);
      const order = [...applied.needsFullSync].sort((a, b) => Number(projecting.has(b)) - Number(projecting.has(a)) || a.localeCompare(b));
      let updates = 0;
      for (const ma of order) updates += (await engine.run(ma, "full-sync")).counts.updates;
      return { order, updates };
    });
    const pending = (await db.query<{ n: number }>(`select count(*) as n from pending_export where ma = 'directory' and op = 'update' and state = 'pending'`)).rows[0].n;
    add(`real: apply + full sync (${real.value.order.join(", ")})`, n, real.seconds, `${pending} pending updates`);
    const ratio = planned.seconds / real.seconds;
    add("  = plan / real full sync", n, planned.seconds, `${ratio.toFixed(2)}× (target ≤ 2×)${ratio <= 2 ? "" : "  OVER TARGET"}`);
    if (touched && touched.updates !== pending) console.warn(`plan predicted ${touched.updates} updates, the real sync made ${pending}`);
  } finally {
    await db.close();
  }
  printRows(`plan of a rule change touching ${n} people (PostgreSQL server; peak RSS is the process's so far)`, rows);
}
