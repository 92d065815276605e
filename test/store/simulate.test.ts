// Database.simulate: one transaction, always rolled back; nested transactions are savepoints.
// Held on both drivers: a PostgreSQL server and the embedded PGlite.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";

async function exercise(db: Database): Promise<void> {
  await db.query(`insert into watermark (ma, value) values ('hr', 'before')`);
  const seenInside = await db.simulate(async (view) => {
    await view.query(`update watermark set value = 'inside' where ma = 'hr'`);
    await view.transaction(async (tx) => tx.query(`insert into watermark (ma, value) values ('dir', 'x')`));
    await assert.rejects(
      view.transaction(async (tx) => {
        await tx.query(`insert into watermark (ma, value) values ('lost', 'x')`);
        throw new Error("boom");
      }),
      /boom/,
    );
    return (await view.query<{ ma: string; value: string }>(`select ma, value from watermark order by ma`)).rows;
  });
  assert.deepEqual(seenInside, [
    { ma: "dir", value: "x" },
    { ma: "hr", value: "inside" },
  ]);
  const after = (await db.query<{ ma: string; value: string }>(`select ma, value from watermark order by ma`)).rows;
  assert.deepEqual(after, [{ ma: "hr", value: "before" }]);
}

test("simulate rolls everything back (PostgreSQL)", async () => {
  const pg = await testDatabase("simulate");
  const db = await openDatabase({ url: pg.url });
  try {
    await exercise(db);
  } finally {
    await db.close();
    await pg.drop();
  }
});

test("simulate rolls everything back (PGlite)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "idsync-pglite-"));
  const db = await openDatabase({ dataDir: dir });
  try {
    await exercise(db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
