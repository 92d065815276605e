// The audit trail records who did what and when, with counts: an export, an erasure, an
// unsuppression and a retention purge each leave a record, and no record holds any attribute
// value, anchor or DN the engine ever held — the subject is named by a salted hash only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { enforceRetention } from "../../src/engine/retention.ts";
import { listAudit } from "../../src/privacy/audit.ts";
import { anchorHash, privacySalt } from "../../src/privacy/hash.ts";
import { idsync, people, populatedEngine } from "./fixture.ts";

test("audit records name the actor, the action and counts, and no personal data", async () => {
  const t = await populatedEngine();
  try {
    // A leaver, so that a retention purge has something to purge.
    t.writeHr(people().map((p) => (p.employeeId === "E0011" ? { ...p, status: "leaver" } : p)));
    await t.engine.cycle();
    // Every value held before: attributes, anchors, DNs (numbers and short codes aside: counts look like them).
    const held = new Set<string>();
    const add = (v: unknown) => {
      for (const x of Array.isArray(v) ? v : [v]) if (typeof x === "string" && x.length >= 3 && !/^\d+$/.test(x)) held.add(x);
    };
    for (const r of (await t.db.query<{ attrs: Record<string, unknown> }>(`select attrs from mv_object`)).rows) Object.values(r.attrs).forEach(add);
    for (const r of (await t.db.query<{ attrs: Record<string, unknown>; anchor: string; dn: string | null }>(`select attrs, anchor, dn from cs_object`)).rows) {
      Object.values(r.attrs).forEach(add);
      add(r.anchor);
      add(r.dn);
    }
    assert.ok(held.has("Zerlinda") && held.has("E0011") && held.size > 40);

    assert.equal((await idsync(t.url, ["subject", "export", "hr/E0007"])).code, 0);
    const erase = await idsync(t.url, ["subject", "erase", "mail=nobody@example.org", "--yes"]);
    assert.equal(erase.code, 1, "an unknown subject erases nothing");
    assert.equal((await idsync(t.url, ["subject", "erase", "hr/E0007", "--yes", "--actor", "dpo-officer"])).code, 0, "erased");
    assert.equal((await idsync(t.url, ["subject", "unsuppress", "hr/E0007"])).code, 0);
    const purge = await enforceRetention(t.db, t.engine.config(), { now: new Date(Date.now() + 31 * 86_400_000), actor: "retention-job" });
    assert.equal(purge.purged.metaverseObjects, 1, "the leaver was purged");

    const events = await listAudit(t.db);
    assert.deepEqual(events.map((e) => `${e.action} by ${e.actor}`).reverse(), [
      "subject-export by cli-tester",
      "subject-erase by dpo-officer",
      "subject-unsuppress by cli-tester",
      "retention-purge by retention-job",
    ]);
    const salt = await privacySalt(t.db);
    const subjectHash = anchorHash(salt, "hr", "E0007");
    assert.deepEqual(events.filter((e) => e.subjectHash).map((e) => e.subjectHash), [subjectHash, subjectHash, subjectHash], "one subject, one hash");
    const erased = events.find((e) => e.action === "subject-erase")!;
    assert.equal(erased.details.metaverseObjects, 1);
    assert.equal(erased.details.connectorSpaceObjects, 2);

    const rows = (await t.db.query<{ row: string }>(`select a::text as row from audit_event a`)).rows.map((r) => r.row.toLowerCase());
    const leaks = [...held].filter((v) => rows.some((r) => r.includes(v.toLowerCase())));
    assert.deepEqual(leaks, [], "no held value appears in the audit trail");
    for (const e of events) {
      for (const [k, v] of Object.entries(e.details)) {
        assert.ok(typeof v === "number" || ["mode", "connectorSpaceCutoff", "runHistoryCutoff"].includes(k), `detail ${k} is a count`);
      }
    }
  } finally {
    await t.close();
  }
});
