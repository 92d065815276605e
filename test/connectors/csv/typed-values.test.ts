// integer → number, boolean → true/false from true/false/1/0/yes/no in any case; others stay strings.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { byAnchor, connector, importAll, tempDir } from "./helpers.ts";

test("integers and booleans are typed, strings are kept verbatim", async () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, "hr.csv"),
    "employeeId,age,active,sn,managerId\n1, 42 ,YES, spaced ,2\n2,-7,0,x,\n3,+3,False,y,\n4,0,no,z,\n5,1,True,w,\n6,2,1,v,\n",
  );
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual(problems, []);
  const m = byAnchor(objects);
  assert.deepEqual(m.get("1")!.attrs, { employeeId: "1", age: 42, active: true, sn: " spaced ", managerId: "2" });
  assert.deepEqual([2, 3, 4, 5, 6].map((i) => [m.get(String(i))!.attrs.age, m.get(String(i))!.attrs.active]), [
    [-7, false],
    [3, false],
    [0, false],
    [1, true],
    [2, true],
  ]);
});
