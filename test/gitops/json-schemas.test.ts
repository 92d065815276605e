// The JSON output of plan, drift and validate follows the published schemas (checked with ajv), and
// the schemas are strict enough to catch a report that drifts from them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { loadConfigDirectory } from "../../src/config/index.ts";
import { DRIFT_SCHEMA_URL, drift, PLAN_SCHEMA_URL, plan, renderJson, renderValidation, VALIDATE_SCHEMA_URL } from "../../src/gitops/index.ts";
import { salesLeaveAndDisplayNameChanges, syncedQuickstart } from "./helpers.ts";

function validator(url: URL) {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormatsModule.default(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(url, "utf8")));
  // A plain predicate (not ajv's type guard, which would narrow the parsed reports to unknown).
  const check = (data: unknown): boolean => validate(data);
  return Object.assign(check, { get errors() { return validate.errors; } });
}

test("plan, drift and validate JSON validate against their schemas", async () => {
  const planSchema = validator(PLAN_SCHEMA_URL);
  const driftSchema = validator(DRIFT_SCHEMA_URL);
  const validateSchema = validator(VALIDATE_SCHEMA_URL);
  const s = await syncedQuickstart();
  try {
    s.edit("rules.yaml", salesLeaveAndDisplayNameChanges);
    for (const redact of [false, true]) {
      const report = JSON.parse(renderJson(await plan({ database: s.db, proposed: await s.config(), configuration: s.dir, redact })));
      assert.ok(planSchema(report), JSON.stringify(planSchema.errors));
      assert.ok(report.data.managementAgents.length > 0, "a plan with content was checked");
    }
    const d = JSON.parse(renderJson(await drift({ declared: await s.config(), configuration: s.dir, database: s.db })));
    assert.ok(driftSchema(d), JSON.stringify(driftSchema.errors));
    assert.equal(d.config[0].diff.changed, 1);

    const loaded = await loadConfigDirectory(s.dir);
    const v = JSON.parse(renderValidation({ directory: s.dir, resources: loaded.resources, errors: [{ file: "x.yaml", line: 3, column: 5, kind: "SyncRule", name: "r", path: "spec.scope", message: "bad" }] }, "json"));
    assert.ok(validateSchema(v), JSON.stringify(validateSchema.errors));

    // The schemas are closed: a renamed or missing field is caught.
    const broken = JSON.parse(renderJson(await plan({ database: s.db, proposed: await s.config(), configuration: s.dir })));
    broken.data.managementAgents[0].update = broken.data.managementAgents[0].updates;
    delete broken.data.managementAgents[0].updates;
    assert.equal(planSchema(broken), false);
    assert.equal(driftSchema({ ...d, summary: { changes: "yes", configDrift: 1, dataDrift: 0 } }), false);
  } finally {
    await s.close();
  }
});
