// Multi-valued attributes split on the separator (trimmed, empties dropped) into string[].
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { byAnchor, connector, importAll, tempDir } from "./helpers.ts";

test("a multi-valued cell becomes a string array; a single-valued cell keeps its separator", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "employeeId,groups,sn\n1, staff ; ;admins;,A;B\n2,solo,C\n");
  const m = byAnchor((await importAll(connector(dir))).objects);
  assert.deepEqual(m.get("1")!.attrs.groups, ["staff", "admins"]);
  assert.equal(m.get("1")!.attrs.sn, "A;B");
  assert.deepEqual(m.get("2")!.attrs.groups, ["solo"]);
});

test("a custom separator and delimiter are honoured, and multi-values export and read back", async () => {
  const dir = tempDir();
  const c = connector(dir, { delimiter: "\t", multiValueSeparator: "|" });
  writeFileSync(join(dir, "hr.csv"), "employeeId\tgroups\n1\ta|b; c\n");
  assert.deepEqual(byAnchor((await importAll(c)).objects).get("1")!.attrs.groups, ["a", "b; c"]);
  const r = await c.export([{ op: "add", id: "x", objectType: "person", attrs: { employeeId: "2", groups: ["x,y", "z"] } }]);
  assert.deepEqual(r, [{ id: "x", ok: true, anchor: "2" }]);
  assert.deepEqual(byAnchor((await importAll(c)).objects).get("2")!.attrs.groups, ["x,y", "z"]);
});
