// A 100k-row file imports completely, in batches of about a thousand (speed is for benchmarks).
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connector, tempDir } from "./helpers.ts";

test("100k rows import with every row and value intact", async () => {
  const dir = tempDir();
  const rows = ["employeeId,givenName,sn,age,active,groups"];
  for (let i = 0; i < 100_000; i++) rows.push(`E${i},Given${i},"Sur, ${i}",${i % 90},${i % 2 ? "yes" : "no"},a;b${i % 3}`);
  writeFileSync(join(dir, "hr.csv"), rows.join("\n") + "\n");
  let count = 0;
  let largest = 0;
  let problems = 0;
  const anchors = new Set<string>();
  let sample: unknown;
  for await (const b of connector(dir).fullImport()) {
    count += b.items.length;
    largest = Math.max(largest, b.items.length);
    problems += b.problems?.length ?? 0;
    for (const o of b.items) {
      anchors.add(o.anchor);
      if (o.anchor === "E77777") sample = o.attrs;
    }
  }
  assert.equal(count, 100_000);
  assert.equal(anchors.size, 100_000);
  assert.equal(problems, 0);
  assert.ok(largest <= 1000, `batches of at most 1000 objects, saw ${largest}`);
  assert.deepEqual(sample, { employeeId: "E77777", givenName: "Given77777", sn: "Sur, 77777", age: 77777 % 90, active: true, groups: ["a", "b2"] });
});
