// `subject export` holds every value the engine holds about the subject — checked against direct
// queries of the metaverse, the connector spaces, the pending exports and the run errors — and the
// CSV form carries the same values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { collectSubject } from "../../src/privacy/collect.ts";
import { subjectCsv } from "../../src/privacy/csv.ts";
import { resolveSubject } from "../../src/privacy/subject.ts";
import { mvIdOf, people, populatedEngine } from "./fixture.ts";

/** Every scalar in a JSON value, as text (keys excluded). */
function scalars(v: unknown, out: string[] = []): string[] {
  if (v === null || v === undefined) return out;
  if (Array.isArray(v)) v.forEach((x) => scalars(x, out));
  else if (typeof v === "object") Object.values(v as Record<string, unknown>).forEach((x) => scalars(x, out));
  else out.push(String(v));
  return out;
}

test("the export contains every value held about the subject, in JSON and in CSV", async () => {
  const t = await populatedEngine();
  try {
    // A change not exported yet: a pending export for the directory account.
    t.writeHr(people().map((p) => (p.employeeId === "E0007" ? { ...p, department: "Cartography-78" } : p)));
    await t.engine.run("hr", "delta-import");
    await t.engine.run("hr", "delta-sync");
    const mvId = await mvIdOf(t.db, "E0007");

    const direct: string[] = [];
    const mv = (await t.db.query(`select attrs, lineage from mv_object where id = $1`, [mvId])).rows[0];
    scalars(mv, direct);
    const cs = (await t.db.query<{ id: number }>(`select id, ma, anchor, dn, attrs, contrib, unresolved_refs from cs_object where mv_id = $1`, [mvId])).rows;
    assert.equal(cs.length, 2, "connected in hr and directory");
    scalars(cs, direct);
    const pe = (await t.db.query(`select op, state, changes from pending_export where cs_id = any($1::bigint[])`, [cs.map((c) => c.id)])).rows;
    assert.equal(pe.length, 1, "the department change waits for export");
    scalars(pe, direct);
    const errors = (await t.db.query(`select code, message, anchor from run_error where anchor = 'E0007'`)).rows;
    assert.ok(errors.length >= 1, "the duplicate import left an error");
    scalars(errors, direct);
    assert.ok(direct.includes("Cartography-78") && direct.includes("Zerlinda"));

    const record = await collectSubject(t.db, t.engine.config(), await resolveSubject(t.db, "E0007"));
    const exported = new Set(scalars(record));
    const csv = subjectCsv(record);
    const missing = [...new Set(direct)].filter((v) => !exported.has(v));
    assert.deepEqual(missing, [], "every value from the direct queries is in the export");
    const missingCsv = [...new Set(direct)].filter((v) => !csv.includes(v));
    assert.deepEqual(missingCsv, [], "and in the CSV");

    // Lineage and source of authority, per attribute; where the department goes.
    const dept = record.attributes.find((a) => a.name === "department")!;
    assert.equal(dept.suppliedBy?.ma, "hr");
    assert.equal(dept.authority?.ma, "hr");
    assert.deepEqual(
      dept.exportedTo.map((e) => [e.object, e.attribute, e.value, e.pending]),
      [["directory/E0007", "department", "Cartography-77", "Cartography-78"]],
    );
    // Nobody else's data: the people they manage appear by metaverse id only.
    assert.equal(scalars(record).some((v) => v === "Given8" || v === "Family9"), false);
    assert.deepEqual(record.referencedBy.map((r) => r.attribute), ["manager", "manager"]);
  } finally {
    await t.close();
  }
});
