// Settings: the object type by name, relative paths against the MA's directory, bad settings named.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { ObjectTypeSpec } from "../../../src/config/model.ts";
import { connector, importAll, person, tempDir } from "./helpers.ts";

const group: ObjectTypeSpec = { name: "group", anchor: ["cn"], attributes: [{ name: "cn" }, { name: "member", type: "reference", multiValued: true }] };

test("objectType selects the declared type; the path is relative to baseDir", async () => {
  const dir = tempDir();
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "groups.csv"), "cn;member\nstaff;1|2\n");
  const c = connector(dir, { path: "data/groups.csv", objectType: "group", delimiter: ";", multiValueSeparator: "|" }, [person, group]);
  assert.equal(c.referenceBy, "anchor");
  const { objects } = await importAll(c);
  assert.deepEqual(objects, [{ objectType: "group", anchor: "staff", attrs: { cn: "staff", member: ["1", "2"] } }]);
});

test("invalid settings throw, naming the MA and the field", () => {
  const dir = tempDir();
  assert.throws(() => connector(dir, { delimiter: '"' }), /ManagementAgent hr: spec\.connector\.csv\.delimiter/);
  assert.throws(() => connector(dir, { objectType: "robot" }), /spec\.connector\.csv\.objectType: no object type 'robot'/);
  assert.throws(() => connector(dir, { multiValueSeparator: "" }), /multiValueSeparator/);
});

test("a composite anchor joins its attributes with '+'", async () => {
  const dir = tempDir();
  const t: ObjectTypeSpec = { name: "account", anchor: ["system", "login"], attributes: [{ name: "login" }, { name: "system" }, { name: "note" }] };
  writeFileSync(join(dir, "hr.csv"), "login,system,note\nann,hr,x\n");
  const c = connector(dir, {}, [t]);
  assert.deepEqual((await importAll(c)).objects[0].anchor, "hr+ann");
  const r = await c.export([{ op: "update", id: "u", objectType: "account", anchor: "hr+ann", changes: { note: { replace: "y" } } }]);
  assert.deepEqual(r, [{ id: "u", ok: true, anchor: "hr+ann" }]);
});
