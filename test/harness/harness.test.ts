// The PostgreSQL harness gives each caller its own database, and drop() really removes it — even
// while a test still holds a connection to it.
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { testDatabase } from "./postgres.ts";

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

test("two test databases are independent and drop() removes them", async () => {
  const a = await testDatabase("harness");
  const b = await testDatabase();
  try {
    assert.notEqual(a.url, b.url);
    assert.match(a.name, /^idsync_test_harness_[0-9a-f]{12}$/);

    await withClient(a.url, (c) => c.query("CREATE TABLE person (id int PRIMARY KEY); INSERT INTO person VALUES (1)"));
    const inA = await withClient(a.url, (c) => c.query("SELECT count(*)::int AS n FROM person"));
    assert.equal(inA.rows[0].n, 1);
    const inB = await withClient(b.url, (c) => c.query("SELECT to_regclass('public.person') AS t"));
    assert.equal(inB.rows[0].t, null, "a table created in one test database is visible in another");

    // A connection left open must not stop drop() (DROP DATABASE … WITH (FORCE)).
    const lingering = new pg.Client({ connectionString: a.url });
    lingering.on("error", () => {}); // the server ends this connection during drop()
    await lingering.connect();
    await a.drop();
    await lingering.end().catch(() => {});

    const listed = await withClient(b.url, (c) => c.query("SELECT 1 FROM pg_database WHERE datname = $1", [a.name]));
    assert.equal(listed.rowCount, 0, `${a.name} still exists after drop()`);
    await assert.rejects(withClient(a.url, (c) => c.query("SELECT 1")), (err: { code?: string }) => err.code === "3D000");
  } finally {
    await a.drop();
    await b.drop();
  }
});
