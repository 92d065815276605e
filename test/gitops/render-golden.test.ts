// Golden files for the text and Markdown renderers: fixed reports (golden/*.report.json, taken from
// real plans and drift runs of the quick start, with paths and times made fixed) rendered and
// compared byte for byte. After an intended change of the output: UPDATE_GOLDEN=1 and review the diff.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import {
  DRIFT_SCHEMA_URL,
  PLAN_SCHEMA_URL,
  renderDriftMarkdown,
  renderDriftText,
  renderPlanMarkdown,
  renderPlanText,
  type DriftReport,
  type PlanReport,
} from "../../src/gitops/index.ts";

const golden = (name: string) => new URL(`./golden/${name}`, import.meta.url);
const update = process.env.UPDATE_GOLDEN === "1";

function check(file: string, actual: string): void {
  const url = golden(file);
  if (update || !existsSync(url)) writeFileSync(url, actual);
  assert.equal(actual, readFileSync(url, "utf8"), `${file} differs from its golden file (UPDATE_GOLDEN=1 to accept)`);
}

function schema(url: URL) {
  const ajv = new Ajv({ allErrors: true });
  addFormatsModule.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(url, "utf8")));
}

const plans = ["plan-changes", "plan-no-changes"];

for (const name of plans) {
  test(`plan renderers: ${name}`, () => {
    const report = JSON.parse(readFileSync(golden(`${name}.report.json`), "utf8")) as PlanReport;
    const valid = schema(PLAN_SCHEMA_URL);
    assert.ok(valid(report), `the fixture follows the schema: ${JSON.stringify(valid.errors)}`);
    check(`${name}.txt`, renderPlanText(report));
    check(`${name}.md`, renderPlanMarkdown(report));
  });
}

test("drift renderers", () => {
  const report = JSON.parse(readFileSync(golden("drift.report.json"), "utf8")) as DriftReport;
  const valid = schema(DRIFT_SCHEMA_URL);
  assert.ok(valid(report), `the fixture follows the schema: ${JSON.stringify(valid.errors)}`);
  check("drift.txt", renderDriftText(report));
  check("drift.md", renderDriftMarkdown(report));
});
