// `drift` against the engine's database: the CRs in git vs the applied configuration, and data drift
// — a hand edit in the target that an import saw, even before any sync ran — listed per MA with the
// target's value and the rules' value; --redact hides personal values; nothing is written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { drift } from "../../src/gitops/index.ts";
import { REDACTED } from "../../src/privacy/redact.ts";
import { rowChecksums, syncedQuickstart } from "./helpers.ts";

test("config drift and data drift against the engine's database", async () => {
  const s = await syncedQuickstart();
  try {
    const clean = await drift({ declared: await s.config(), configuration: "qs", database: s.db });
    assert.equal(clean.summary.changes, false);
    assert.deepEqual(clean.data?.managementAgents, []);

    // Config drift: git moved on, the engine did not apply it.
    s.edit("rules.yaml", (t) => t.replace("precedence: 10\n  scope: 'source.status", "precedence: 15\n  scope: 'source.status"));
    // Data drift: a hand edit in the directory, seen by an import (no sync has run since).
    const path = join(s.dir, "data/directory.csv");
    const [header, first, ...rest] = readFileSync(path, "utf8").split("\n");
    const cells = first.split(",");
    const col = header.split(",").indexOf("displayName");
    const declaredName = cells[col];
    cells[col] = "Hand Edited";
    writeFileSync(path, [header, cells.join(","), ...rest].join("\n"));
    await s.engine.run("directory", "delta-import");
    const before = await rowChecksums(s.db);

    const report = await drift({ declared: await s.config(), configuration: "qs", database: s.db });
    assert.equal(report.config[0].against, "engine");
    assert.deepEqual(report.config[0].diff.resources.map((r) => [r.name, r.fields.map((f) => `${f.path}: ${f.before} → ${f.after}`)]), [
      ["hr-person-inbound", ["spec.precedence: 10 → 15"]],
    ]);
    assert.deepEqual(report.data?.simulatedDeltaSyncs, ["directory"]);
    const directory = report.data!.managementAgents.find((m) => m.name === "directory")!;
    assert.equal(directory.objects, 1);
    assert.equal(directory.pending, 1);
    assert.deepEqual(directory.byAttribute, [{ attribute: "displayName", objects: 1 }]);
    assert.equal(directory.samples[0].anchor, cells[0]);
    assert.deepEqual(directory.samples[0].attributes, { displayName: { before: "Hand Edited", after: declaredName } });
    assert.deepEqual(await rowChecksums(s.db), before, "drift's simulated sync was rolled back");

    const redacted = await drift({ declared: await s.config(), configuration: "qs", database: s.db, redact: true });
    const sample = redacted.data!.managementAgents[0].samples[0];
    assert.deepEqual(sample.attributes, { displayName: { before: REDACTED, after: REDACTED } });
    assert.equal(sample.anchor, cells[0], "the anchor (an employee id) still identifies the object");

    // The engine corrects it; a later hand edit is drift again once an import has seen it.
    await s.engine.cycle();
    assert.equal((await drift({ declared: await s.config(), configuration: "qs", database: s.db })).summary.dataDrift, 0);
    writeFileSync(path, readFileSync(path, "utf8").replace(declaredName, "Reverted By Hand"));
    const unseen = await drift({ declared: await s.config(), configuration: "qs", database: s.db });
    assert.equal(unseen.summary.dataDrift, 0, "drift reads the last import, it does not connect to the target");
    await s.engine.run("directory", "delta-import");
    const seen = await drift({ declared: await s.config(), configuration: "qs", database: s.db });
    assert.equal(seen.summary.dataDrift, 1);
    assert.equal(seen.data!.managementAgents[0].samples[0].attributes!.displayName.before, "Reverted By Hand");
  } finally {
    await s.close();
  }
});
