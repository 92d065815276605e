// A malformed row is reported with its physical line (header = line 1, multi-line cells counted)
// and skipped; every well-formed row, also after a broken quote, still imports.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connector, importAll, tempDir } from "./helpers.ts";

test("each kind of malformed row is reported at its line; the rest imports", async () => {
  const dir = tempDir();
  const lines = [
    "employeeId,sn,age,active", // 1
    '1,"two\nline",1,yes', // 2-3: a legitimate multi-line cell
    "2,Lee,1", // 4: too few cells
    "3,Kim,x,yes", // 5: bad integer
    "4,Ray,5,maybe", // 6: bad boolean
    ",NoAnchor,1,no", // 7: missing anchor
    "5,Ann,2,no", // 8
    "5,Dup,3,no", // 9: duplicate anchor: ambiguous, neither row 8 nor row 9 imports
    '6,"bad"quote,1,no', // 10: text after a closing quote
    "7,Eve,4,true", // 11
  ];
  writeFileSync(join(dir, "hr.csv"), lines.join("\n") + "\n");
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual(
    objects.map((o) => o.anchor),
    ["1", "7"],
  );
  // In line order (an ambiguous anchor's rows are decided, and reported, at the end of the file).
  const byLine = (p: { location: string }) => Number(p.location.replace("line ", ""));
  assert.deepEqual(
    [...problems].sort((a, b) => byLine(a) - byLine(b)).map((p) => [p.location, p.code, p.anchor]),
    [
      ["line 4", "column-count", "2"],
      ["line 5", "invalid-value", "3"],
      ["line 6", "invalid-value", "4"],
      ["line 7", "missing-anchor", undefined],
      ["line 8", "duplicate-anchor", "5"],
      ["line 9", "duplicate-anchor", "5"],
      ["line 10", "invalid-closing-quote", "6"],
    ],
  );
  assert.ok(problems.every((p) => p.message.includes("hr.csv")));
  assert.match(problems[1].message, /column 'age'/);
});

test("an unclosed quote mid-file does not swallow the rows after it", async () => {
  const dir = tempDir();
  const text = [
    "employeeId,sn,mail", // 1
    '1,"Bob,b@x', // 2: quote never closed
    "2,Alice,a@x", // 3
    "3,Carol,c@x", // 4
    '4,"Dan",d@x', // 5: the stray quote's "closing" meets this one
    '5,"multi', // 6-7: legitimate
    'line",e@x',
    '6,"unterminated,f@x', // 8: open until EOF
    "7,Gus,g@x", // 9
  ].join("\r\n");
  writeFileSync(join(dir, "hr.csv"), text);
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual(
    objects.map((o) => o.anchor),
    ["2", "3", "4", "5", "7"],
  );
  assert.equal(objects.find((o) => o.anchor === "5")!.attrs.sn, "multi\r\nline");
  // In line order (an ambiguous anchor's rows are decided, and reported, at the end of the file).
  const byLine = (p: { location: string }) => Number(p.location.replace("line ", ""));
  assert.deepEqual(
    [...problems].sort((a, b) => byLine(a) - byLine(b)).map((p) => [p.location, p.code, p.anchor]),
    [
      ["line 2", "unterminated-quote", "1"],
      ["line 8", "unterminated-quote", "6"],
    ],
  );
});

test("a quote inside an unquoted cell and extra cells are malformed too", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), 'employeeId,sn\n1,5" screen\n2,a,b\n3,ok');
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual(objects.map((o) => o.anchor), ["3"]);
  assert.deepEqual(problems.map((p) => [p.location, p.code]), [
    ["line 2", "unexpected-quote"],
    ["line 3", "column-count"],
  ]);
});

test("a file that is not UTF-8, or whose header is malformed, fails the import as a whole", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), Buffer.concat([Buffer.from("employeeId,sn\n1,ok\n2,M"), Buffer.from([0xfc]), Buffer.from("ller\n")]));
  await assert.rejects(importAll(connector(dir)), /line 3: not valid UTF-8/);
  writeFileSync(join(dir, "hr.csv"), '"employeeId,sn\n1,x\n');
  await assert.rejects(importAll(connector(dir)), /header row is malformed/);
});
