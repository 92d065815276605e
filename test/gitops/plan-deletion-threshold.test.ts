// A plan that would delete past an MA's deletion threshold says so — in the report, the text and the
// Markdown — and judges by the thresholds of the proposed configuration.
import { test } from "node:test";
import assert from "node:assert/strict";
import { plan, renderPlanMarkdown, renderPlanText } from "../../src/gitops/index.ts";
import { salesLeaveAndDisplayNameChanges, syncedQuickstart } from "./helpers.ts";

test("a plan that would delete past the threshold says so", async () => {
  const s = await syncedQuickstart();
  try {
    // Sales leaves the directory's scope: its accounts are deprovisioned with deprovision: delete.
    s.edit("rules.yaml", salesLeaveAndDisplayNameChanges);
    const sales = (await s.db.query<{ n: number }>(
      `select count(*) as n from cs_object c join mv_object m on m.id = c.mv_id where c.ma = 'directory' and m.attrs->>'department' = 'Sales'`,
    )).rows[0].n;
    assert.ok(sales > 25, `the quick start has more Sales accounts (${sales}) than directory's maxDeletes 25`);

    const report = await plan({ database: s.db, proposed: await s.config(), configuration: "quickstart" });
    const directory = report.data.managementAgents.find((m) => m.name === "directory")!;
    assert.equal(directory.deletes, sales);
    assert.equal(directory.deprovisions, sales);
    assert.deepEqual(report.summary.thresholdsTripped, ["directory"]);
    assert.equal(directory.threshold?.exceeded, true);
    assert.equal(directory.threshold?.maxDeletes, 25);
    assert.match(directory.threshold?.reason ?? "", new RegExp(`^${sales} deletes exceed maxDeletes 25`));
    assert.equal(directory.samples.deletes.length, 5);

    const md = renderPlanMarkdown(report);
    assert.match(md, /> \[!CAUTION\]\n> \*\*This change would delete \d+ objects in connected systems\*\*/);
    assert.match(md, /\*\*Deletion threshold tripped\*\* in `directory`/);
    assert.match(renderPlanText(report), /WARNING: deletion threshold of directory tripped/);

    // The same deletes under a raised threshold (in the proposed configuration) trip nothing.
    s.edit("directory.yaml", (t) => t.replace("deletionThreshold: {maxDeletes: 25, maxPercent: 10}", "deletionThreshold: {maxDeletes: 1000, maxPercent: 50}"));
    const raised = await plan({ database: s.db, proposed: await s.config(), configuration: "quickstart" });
    const d2 = raised.data.managementAgents.find((m) => m.name === "directory")!;
    assert.equal(d2.deletes, sales);
    assert.equal(d2.threshold?.exceeded, false);
    assert.deepEqual(raised.summary.thresholdsTripped, []);
    assert.doesNotMatch(renderPlanMarkdown(raised), /threshold tripped/);
    assert.match(renderPlanMarkdown(raised), /\[!CAUTION\]/, "deletes are still called out");
  } finally {
    await s.close();
  }
});
