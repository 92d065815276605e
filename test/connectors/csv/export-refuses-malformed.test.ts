// The engine must not destroy data it cannot read: when the target file has rows the connector
// cannot parse, every operation fails (retryable) and the file stays exactly as it was.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ExportOperation } from "../../../src/connectors/types.ts";
import { connector, tempDir } from "./helpers.ts";

const ops: ExportOperation[] = [
  { op: "add", id: "a", objectType: "person", attrs: { employeeId: "5", sn: "New" } },
  { op: "delete", id: "d", objectType: "person", anchor: "1" },
];

for (const [what, content] of [
  ["a row with a broken quote", 'employeeId,sn\n1,Lee\n2,"Kim\n3,Ray\n'],
  ["a duplicate anchor", "employeeId,sn\n1,Lee\n1,Kim\n"],
  ["a bad integer", "employeeId,age\n1,old\n"],
  ["no anchor column", "id,sn\n1,Lee\n"],
  ["bytes that are not UTF-8", Buffer.from([0x65, 0x6d, 0x70, 0x6c, 0x6f, 0x79, 0x65, 0x65, 0x49, 0x64, 0x0a, 0x31, 0xff, 0x0a])],
] as const) {
  test(`export refuses to rewrite a file with ${what}`, async () => {
    const dir = tempDir();
    const file = join(dir, "hr.csv");
    writeFileSync(file, content);
    const before = readFileSync(file);
    const results = await connector(dir).export(ops);
    assert.equal(results.length, 2);
    for (const r of results) {
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.code, "target-file-malformed");
        assert.equal(r.retryable, true);
        assert.match(r.message, /hr\.csv/);
      }
    }
    assert.deepEqual(readFileSync(file), before);
  });
}
