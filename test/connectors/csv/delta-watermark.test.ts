// A delta import is a snapshot of the file, unless its content hash equals the watermark's: then it
// is "changes" with nothing in it (an empty snapshot would mean "everything was deleted").
import assert from "node:assert/strict";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { DeltaImport, ImportChange } from "../../../src/connectors/types.ts";
import { connector, tempDir } from "./helpers.ts";

async function drain(d: DeltaImport): Promise<ImportChange[]> {
  const items: ImportChange[] = [];
  for await (const b of d.batches) items.push(...b.items);
  return items;
}

test("unchanged content gives no changes, changed content a snapshot", async () => {
  const dir = tempDir();
  const file = join(dir, "hr.csv");
  writeFileSync(file, "employeeId,sn\n1,Lee\n2,Kim\n");
  const c = connector(dir);

  const first = await c.deltaImport(undefined);
  assert.equal(first.mode, "snapshot");
  const items = await drain(first);
  assert.deepEqual(
    items.map((i) => (i.kind === "upsert" ? i.object.anchor : "?")),
    ["1", "2"],
  );
  const w1 = (await first.watermark())!;
  assert.match(w1, /^sha256:[0-9a-f]{64} mtime:\d{4}-/);

  // Touching the file (new mtime, same bytes) is not a change.
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const same = await c.deltaImport(w1);
  assert.equal(same.mode, "changes");
  assert.deepEqual(await drain(same), []);
  const w2 = (await same.watermark())!;
  assert.equal(w2.split(" ")[0], w1.split(" ")[0]);

  writeFileSync(file, "employeeId,sn\n1,Lee\n3,Ray\n");
  const changed = await c.deltaImport(w2);
  assert.equal(changed.mode, "snapshot");
  assert.deepEqual(
    (await drain(changed)).map((i) => (i.kind === "upsert" ? [i.object.anchor, i.object.attrs.sn] : "?")),
    [
      ["1", "Lee"],
      ["3", "Ray"],
    ],
  );
  const w3 = (await changed.watermark())!;
  assert.notEqual(w3.split(" ")[0], w1.split(" ")[0]);
});

test("the watermark is not available before the snapshot was read", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "employeeId\n1\n");
  const d = await connector(dir).deltaImport("sha256:" + "0".repeat(64));
  assert.equal(d.mode, "snapshot");
  assert.equal(await d.watermark(), undefined);
  await drain(d);
  assert.ok(await d.watermark());
});
