// An empty cell is an absent value: the key is not in the imported attributes at all.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { byAnchor, connector, importAll, tempDir } from "./helpers.ts";

test("empty cells, quoted or not, are absent; blank lines are skipped", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), 'employeeId,givenName,sn,mail,age,groups\n1,,Lee,"",,\n\n2,Ann,,x@y,5,;\n');
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual(problems, []);
  const m = byAnchor(objects);
  assert.deepEqual(m.get("1")!.attrs, { employeeId: "1", sn: "Lee" });
  assert.ok(!("givenName" in m.get("1")!.attrs));
  // A multi-valued cell holding only separators has no values: absent too.
  assert.deepEqual(m.get("2")!.attrs, { employeeId: "2", givenName: "Ann", mail: "x@y", age: 5 });
});
