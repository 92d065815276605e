// However large the plan, its Markdown stays under 60,000 characters (GitHub rejects comments over
// 65,536): a plan touching 100k objects in many MAs, with many attributes, long values and a large
// configuration diff, is cut with counts of what was left out, and its <details> stay balanced.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MARKDOWN_LIMIT, renderDriftMarkdown, renderPlanMarkdown, type DriftReport, type ManagementAgentImpact, type PlanReport } from "../../src/gitops/index.ts";

const long = (i: number) => `value ${i} `.repeat(40);

function hugeMa(k: number, objects: number): ManagementAgentImpact {
  const sample = (i: number) => ({
    anchor: `E${String(i).padStart(6, "0")}`,
    dn: `uid=user${i},ou=people,ou=region${k},dc=example,dc=org`,
    attributes: Object.fromEntries(Array.from({ length: 30 }, (_, a) => [`attribute${a}`, { before: long(i), after: long(i + 1) }])),
  });
  const samples = Array.from({ length: 50 }, (_, i) => sample(i));
  return {
    name: `ma-${String(k).padStart(3, "0")}`,
    adds: objects,
    updates: objects,
    renames: objects,
    deletes: objects,
    provisions: objects,
    deprovisions: objects,
    joins: 0,
    projections: 0,
    disconnects: 0,
    cancelled: 0,
    updatesByAttribute: Array.from({ length: 200 }, (_, a) => ({ attribute: `attribute${a}`, objects })),
    threshold: { maxDeletes: 10, deletes: objects, total: objects * 2, exceeded: true, reason: `${objects} deletes exceed maxDeletes 10` },
    samples: { adds: samples, updates: samples, renames: samples, deletes: samples, deprovisions: samples, disconnects: [] },
  };
}

function hugePlan(): PlanReport {
  const mas = Array.from({ length: 120 }, (_, k) => hugeMa(k, Math.floor(100_000 / 120)));
  const resources = Array.from({ length: 400 }, (_, i) => ({
    kind: "SyncRule",
    name: `rule-${i}`,
    file: `config/rules-${i}.yaml`,
    change: "changed" as const,
    fields: Array.from({ length: 20 }, (_, f) => ({ path: `spec.attributeFlows[target=a${f}].expression`, change: "changed" as const, before: long(f), after: long(f + 1) })),
  }));
  const deletes = mas.reduce((n, m) => n + m.deletes, 0);
  return {
    kind: "PlanReport",
    version: 1,
    generatedAt: "2025-01-15T09:30:00.000Z",
    configuration: "config",
    database: "postgres://idsync@db.example.org/idsync",
    redacted: false,
    config: { added: 0, changed: resources.length, removed: 0, unchanged: 0, resources },
    data: {
      simulated: mas.map((m) => ({ ma: m.name, profile: "full-sync", status: "success" })),
      removedManagementAgents: [],
      managementAgents: mas,
      metaverse: { projections: 0, deletions: 100_000, updates: 100_000, updatesByAttribute: [], samples: { deletions: [], updates: [] } },
      errors: { count: 100_000, samples: Array.from({ length: 20 }, (_, i) => ({ ma: "ma-000", code: "expression-error", message: long(i) })) },
    },
    warnings: Array.from({ length: 30 }, (_, i) => `warning ${i}: ${long(i)}`),
    summary: { changes: true, configChanges: 400, objectChanges: deletes * 4, deletes, metaverseDeletions: 100_000, thresholdsTripped: mas.map((m) => m.name) },
  };
}

function balanced(md: string): void {
  assert.equal((md.match(/<details>/g) ?? []).length, (md.match(/<\/details>/g) ?? []).length, "every <details> is closed");
}

test("a plan touching 100k objects stays under the comment size limit", () => {
  const report = hugePlan();
  const md = renderPlanMarkdown(report);
  assert.ok(md.length < MARKDOWN_LIMIT, `${md.length} characters`);
  assert.ok(md.length > MARKDOWN_LIMIT * 0.8, "the budget is used, not wasted");
  balanced(md);
  // The essentials come first and survive the cut.
  assert.match(md, /^### idsync plan: 400 configuration changes/);
  assert.match(md, /\[!CAUTION\]\n> \*\*This change would delete 99,960 objects/);
  // What was cut is counted.
  assert.match(md, /… and 70 more management agents/);
  assert.match(md, /sections? left out to keep this comment under 60,000 characters/);
  assert.match(md, /<sub>idsync plan of `config`.*exit code 2: changes<\/sub>\n$/);
});

test("a small limit is honoured too, and drift Markdown has the same guarantee", () => {
  const md = renderPlanMarkdown(hugePlan(), { limit: 5_000 });
  assert.ok(md.length < 5_000, `${md.length} characters`);
  balanced(md);
  const drift: DriftReport = {
    kind: "DriftReport",
    version: 1,
    generatedAt: "2025-01-15T09:30:00.000Z",
    configuration: "config",
    redacted: false,
    config: [{ against: "engine", target: "db", diff: hugePlan().config }],
    data: {
      database: "db",
      simulatedDeltaSyncs: [],
      managementAgents: Array.from({ length: 300 }, (_, k) => ({
        name: `ma-${k}`,
        objects: 1000,
        pending: 1000,
        errors: 0,
        unconfirmed: 0,
        byAttribute: Array.from({ length: 100 }, (_, a) => ({ attribute: `a${a}`, objects: 1000 })),
        samples: Array.from({ length: 50 }, (_, i) => ({ anchor: `E${i}`, op: "update" as const, state: "pending" as const, reason: "not exported", attributes: { a: { before: long(i), after: long(i + 1) } } })),
      })),
    },
    warnings: [],
    summary: { changes: true, configDrift: 400, dataDrift: 300_000 },
  };
  const dmd = renderDriftMarkdown(drift);
  assert.ok(dmd.length < MARKDOWN_LIMIT, `${dmd.length} characters`);
  balanced(dmd);
  assert.match(dmd, /left out to keep this comment under 60,000 characters/);
});
