// Whatever export writes, import reads back as the same values: commas, apostrophes, quotes,
// line breaks (LF and CRLF), the separator in single-valued cells, surrounding spaces, non-ASCII.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import type { ExportOperation } from "../../../src/connectors/types.ts";
import { byAnchor, connector, importAll, tempDir } from "./helpers.ts";

test("a name with a comma, an apostrophe, a quote and a newline round-trips", async () => {
  const dir = tempDir();
  const c = connector(dir);
  const sn = `O'Brien, "Jr."\nsecond line`;
  const r = await c.export([
    { op: "add", id: "a", objectType: "person", attrs: { employeeId: "1", sn, givenName: "  padded ", mail: "a;b", age: 30, active: false, groups: ["g,1", 'g"2'] } },
  ]);
  assert.deepEqual(r, [{ id: "a", ok: true, anchor: "1" }]);
  const text = readFileSync(join(dir, "hr.csv"), "utf8");
  assert.ok(text.includes(`"O'Brien, ""Jr.""\nsecond line"`), text);
  const { objects, problems } = await importAll(c);
  assert.deepEqual(problems, []);
  assert.deepEqual(objects[0].attrs, {
    employeeId: "1",
    givenName: "  padded ",
    sn,
    mail: "a;b",
    age: 30,
    active: false,
    groups: ["g,1", 'g"2'],
  });
});

test("arbitrary strings round-trip (property)", async () => {
  const dir = tempDir();
  const c = connector(dir);
  const unit = fc.oneof(fc.constantFrom(",", '"', "'", "\n", "\r\n", "\r", ";", " ", "\t"), fc.string({ unit: "grapheme", maxLength: 1 }));
  const values = fc.sample(fc.string({ unit, maxLength: 12 }), { numRuns: 300, seed: 4711 });
  const ops: ExportOperation[] = values.map((v, i) => ({ op: "add", id: String(i), objectType: "person", attrs: { employeeId: `E${i}`, sn: v } }));
  const results = await c.export(ops);
  assert.ok(results.every((r) => r.ok));
  const { objects, problems } = await importAll(c);
  assert.deepEqual(problems, []);
  const m = byAnchor(objects);
  values.forEach((v, i) => {
    // An empty string is an absent value.
    assert.equal(m.get(`E${i}`)!.attrs.sn, v === "" ? undefined : v, `value ${JSON.stringify(v)}`);
  });
});
