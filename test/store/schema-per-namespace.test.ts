// A Database in a schema of its own (one Kubernetes namespace's engine): two engines on one
// PostgreSQL database, with the same MA names, keep separate metaverses and connector spaces,
// and their run locks do not meet.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEngine, type Engine } from "../../src/engine/index.ts";
import { openDatabase, schemaForNamespace } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";
import { HR_COLUMNS, person, standardConfig, writeCsv } from "../engine/builders.ts";

test("schemaForNamespace gives distinct, valid names", () => {
  assert.equal(schemaForNamespace("team-a"), "idsync_team_a");
  const long = "x".repeat(63);
  assert.ok(schemaForNamespace(long).length <= 63);
  assert.notEqual(schemaForNamespace(long), schemaForNamespace("x".repeat(62) + "y"));
});

test("two schemas on one database are two engines", async (t) => {
  const pg = await testDatabase("schemas");
  const dirs = [mkdtempSync(join(tmpdir(), "idsync-ns-a-")), mkdtempSync(join(tmpdir(), "idsync-ns-b-"))];
  const engines: Engine[] = [];
  t.after(async () => {
    for (const e of engines) await e.close();
    await pg.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  writeCsv(join(dirs[0], "hr.csv"), HR_COLUMNS, [1, 2, 3].map((n) => person(n)));
  writeCsv(join(dirs[1], "hr.csv"), HR_COLUMNS, [7, 8].map((n) => person(n)));
  for (const [i, ns] of ["team-a", "team-b"].entries()) {
    const e = await openEngine({ database: await openDatabase({ url: pg.url, schema: schemaForNamespace(ns) }) });
    engines.push(e);
    await e.apply(standardConfig(dirs[i]));
  }
  const [a, b] = engines;
  // The same MA names in both: a's exclusive hold does not stop b's runs.
  await a.exclusive("held", async () => {
    assert.equal((await b.cycle()).status, "success");
  });
  assert.equal((await a.cycle()).status, "success");
  const count = async (e: Engine) => (await e.database.query<{ n: number }>(`select count(*) as n from mv_object`)).rows[0].n;
  assert.equal(await count(a), 3);
  assert.equal(await count(b), 2);
  const plain = await openDatabase({ url: pg.url, migrate: false });
  try {
    const tables = (await plain.query<{ schema: string }>(`select table_schema as schema from information_schema.tables where table_name = 'mv_object' order by 1`)).rows.map((r) => r.schema);
    assert.deepEqual(tables, ["idsync_team_a", "idsync_team_b"], "nothing in the default schema");
  } finally {
    await plain.close();
  }
});
