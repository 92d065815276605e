// Who holds a unique value is found through the expression indexes made when the configuration is
// applied, not by reading the connector space: with 50,000 accounts, the lookup for a batch of
// candidates reads the indexes of both the connector space and the pending exports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { uniqueValueHolders } from "../../src/store/index.ts";
import { holderQuery } from "../../src/store/unique.ts";
import { openTestEngine } from "./fixture.ts";
import { uniqueConfig } from "./unique-fixture.ts";

test("the holder lookup is an index probe per candidate", async () => {
  const t = await openTestEngine();
  try {
    await t.engine.apply(uniqueConfig(t.dir));
    await t.db.query(
      `insert into cs_object (ma, object_type, anchor, attrs, imported_at)
       select 'directory', 'account', 'X' || i, jsonb_build_object('employeeId', 'X' || i, 'accountName', 'User' || i), now()
         from generate_series(1, 50000) i`,
    );
    await t.db.query(
      `insert into pending_export (cs_id, ma, op, changes)
       select id, 'directory', 'update', jsonb_build_object('accountName', 'Next' || anchor) from cs_object where ma = 'directory' and anchor like 'X1%'`,
    );
    await t.db.query(`analyze cs_object, pending_export`);

    const holders = await uniqueValueHolders(t.db, "directory", "account", "accountName", ["user17", "NEXTX123", "nobody"]);
    assert.deepEqual(
      holders.map((h) => h.value).sort(),
      ["NEXTX123", "user17"],
      "case-insensitive, from the imported values and from the pending exports",
    );

    // The same statement, explained (the lookup builds it with literals, so the partial indexes match).
    const sql = holderQuery("directory", "account", "accountName");
    const plan = (await t.db.query<{ "QUERY PLAN": string }>(`explain ${sql}`, [["user17", "NEXTX123", "nobody"]])).rows.map((r) => r["QUERY PLAN"]).join("\n");
    assert.match(plan, /Index Scan (on|using) cs_unique_[0-9a-f]{16}/, plan);
    assert.match(plan, /Index Scan (on|using) pe_unique_[0-9a-f]{16}/, plan);
    assert.doesNotMatch(plan, /Seq Scan on (cs_object|pending_export)/, plan);
  } finally {
    await t.close();
  }
});
