// `idsync search`: one value across the metaverse and every connector space — exact,
// case-insensitive unless asked, by prefix, in one attribute, narrowed by CEL — in pages that
// add up to exactly the matching objects, through the search indexes (also on the embedded PGlite).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { searchObjects, type SearchRequest } from "../../src/privacy/search.ts";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { populatedEngine } from "./fixture.ts";

const names = async (db: Database, req: Partial<SearchRequest>) =>
  (await searchObjects(db, { scope: "all", limit: 100, ...req })).hits.map((h) => `${h.name}:${h.matched.join("+")}`);

test("search finds values exactly, by prefix, with or without case, in pages", async () => {
  const t = await populatedEngine();
  try {
    const db = t.db;
    assert.deepEqual(await names(db, { value: "zerlinda quaintrelle" }), ["mv:7:displayName", "directory/E0007:displayName"]);
    assert.deepEqual(await names(db, { value: "zerlinda quaintrelle", caseSensitive: true }), []);
    assert.deepEqual(await names(db, { value: "Zerlinda Quaintrelle", caseSensitive: true }), ["mv:7:displayName", "directory/E0007:displayName"]);
    assert.deepEqual(await names(db, { value: "zerl", prefix: true }), ["mv:7:displayName", "hr/E0007:givenName", "directory/E0007:displayName"]);
    assert.deepEqual(await names(db, { value: "zerl" }), [], "not a prefix search unless asked");
    // The anchor, the colleagues who name it as their manager, and only the attribute asked for.
    assert.deepEqual(await names(db, { value: "e0007" }), [
      "mv:7:employeeId",
      "hr/E0007:(anchor)+employeeId",
      "hr/E0008:managerId",
      "hr/E0009:managerId",
      "directory/E0007:(anchor)+employeeId",
      "directory/E0008:manager",
      "directory/E0009:manager",
    ]);
    assert.deepEqual(await names(db, { value: "E0007", attribute: "employeeId", scope: "connectors", ma: "hr" }), ["hr/E0007:employeeId"]);
    // CEL for the rest: over `mv` it searches the metaverse, over `object` the connector spaces.
    assert.deepEqual(await names(db, { value: "Sales", filter: 'mv.employeeId == "E0003"' }), ["mv:3:department"]);
    assert.deepEqual(await names(db, { filter: 'object.department == "Cartography-77"' }), ["hr/E0007:", "directory/E0007:"]);

    // Pages: every object whose department is Sales, once, in order, whatever the page size.
    const direct = (await db.query<{ n: number }>(
      `select (select count(*) from mv_object where attrs->>'department' = 'Sales') + (select count(*) from cs_object where attrs->>'department' = 'Sales') as n`,
    )).rows[0].n;
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await searchObjects(db, { value: "sales", attribute: "department", scope: "all", limit: 4, after });
      seen.push(...page.hits.map((h) => h.name));
      if (!page.next) break;
      after = page.next;
    }
    assert.equal(seen.length, direct);
    assert.equal(new Set(seen).size, seen.length, "no object twice");
    assert.ok(direct > 8, "several pages were needed");
  } finally {
    await t.close();
  }
});

test("search values with quotes, backslashes, operators and long text, on the embedded database, through the index", async () => {
  const dir = mkdtempSync(join(tmpdir(), "idsync-search-"));
  const db = await openDatabase({ dataDir: dir });
  try {
    const long = "L".repeat(150) + "-tail";
    const values = ["O'Brien, Jr.", "back\\slash", "a:b & c | !d", "x y*", long];
    await db.query(`insert into mv_object (object_type, attrs) select 'person', jsonb_build_object('v', v) from unnest($1::text[]) v`, [values]);
    await db.query(`insert into cs_object (ma, object_type, anchor, dn, attrs) values ('ldap', 'p', 'a1', 'uid=o''brien,ou=people', '{"v": ["one", "two"]}')`);
    for (const v of values) {
      const hits = (await searchObjects(db, { value: v, scope: "metaverse", limit: 10 })).hits;
      assert.deepEqual(hits.map((h) => h.attrs.v), [v], `exact: ${v}`);
    }
    assert.deepEqual((await searchObjects(db, { value: "L".repeat(150), prefix: true, scope: "metaverse", limit: 10 })).hits.length, 1);
    assert.deepEqual((await searchObjects(db, { value: "uid=O'BRIEN", prefix: true, scope: "all", limit: 10 })).hits.map((h) => h.matched), [["(dn)"]]);
    assert.deepEqual((await searchObjects(db, { value: "TWO", scope: "all", limit: 10 })).hits.map((h) => h.name), ["ldap/a1"], "one value of a multi-valued attribute");
    // The planner may prefer a scan on a tiny table; what matters is that the index can serve the query.
    await db.transaction(async (tx) => {
      await tx.query(`set local enable_seqscan = off`);
      const plan = (await tx.query<{ "QUERY PLAN": string }>(
        `explain select id from cs_object where idsync_search_vector(attrs, anchor, dn) @@ idsync_search_query('two', true)`,
      )).rows.map((r) => r["QUERY PLAN"]).join("\n");
      assert.match(plan, /cs_object_search/);
    });
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
