// The chart hands the operator its database timeouts (values database.connectTimeout and
// database.statementTimeout) as IDSYNC_CONNECT_TIMEOUT and IDSYNC_STATEMENT_TIMEOUT, the variables
// `idsync operator` reads, and its schema accepts only durations idsync can parse.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { databaseTimeouts } from "../../src/cli/context.ts";
import { CHART_DIR, defaultValues, find, mergeValues, renderChart } from "../chart/render.ts";

const env = (values?: Record<string, unknown>) => {
  const [c] = find(renderChart({ values }).documents, "Deployment")[0].spec.template.spec.containers;
  return Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
};

describe("the chart's database timeouts", () => {
  it("sets both by default, passes overrides through, and leaves out an emptied one", () => {
    const defaults = env();
    assert.equal(defaults.IDSYNC_CONNECT_TIMEOUT, "10s");
    assert.equal(defaults.IDSYNC_STATEMENT_TIMEOUT, "5m");
    const custom = env({ database: { connectTimeout: "30s", statementTimeout: "1h" } });
    assert.equal(custom.IDSYNC_CONNECT_TIMEOUT, "30s");
    assert.equal(custom.IDSYNC_STATEMENT_TIMEOUT, "1h");
    assert.ok(!("IDSYNC_STATEMENT_TIMEOUT" in env({ database: { statementTimeout: null } })));
  });

  it("renders values the operator parses", () => {
    const e = env({ database: { connectTimeout: "15s", statementTimeout: "1h30m" } });
    const saved = { c: process.env.IDSYNC_CONNECT_TIMEOUT, s: process.env.IDSYNC_STATEMENT_TIMEOUT };
    try {
      process.env.IDSYNC_CONNECT_TIMEOUT = e.IDSYNC_CONNECT_TIMEOUT;
      process.env.IDSYNC_STATEMENT_TIMEOUT = e.IDSYNC_STATEMENT_TIMEOUT;
      assert.deepEqual(databaseTimeouts({}), { connectTimeoutMs: 15_000, statementTimeoutMs: 5_400_000 });
    } finally {
      for (const [k, v] of [["IDSYNC_CONNECT_TIMEOUT", saved.c], ["IDSYNC_STATEMENT_TIMEOUT", saved.s]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it("the schema refuses what idsync cannot parse", () => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")));
    const check = (database: Record<string, unknown>) => (validate(mergeValues(defaultValues(), { database })) ? [] : (validate.errors ?? []).map((x) => x.instancePath));
    assert.deepEqual(check({ connectTimeout: "5s", statementTimeout: "0s" }), []);
    assert.deepEqual(check({ statementTimeout: "5 minutes" }), ["/database/statementTimeout"]);
    assert.deepEqual(check({ connectTimeout: "500ms" }), ["/database/connectTimeout"]);
  });
});
