// After `subject erase`, no table holds any of the subject's values: not the metaverse, the
// connector spaces, pending exports, lineage, run errors or run history. Their directory account is
// deleted per the outbound rule, and the people they managed lose the reference (in the metaverse
// and, after the next cycle, in the directory).
import { test } from "node:test";
import assert from "node:assert/strict";
import { eraseSubject } from "../../src/engine/erase.ts";
import { collectSubject, tokenPattern } from "../../src/privacy/collect.ts";
import { resolveSubject } from "../../src/privacy/subject.ts";
import { dumpAllTables, mvIdOf, occurrences, people, populatedEngine, SUBJECT_VALUES } from "./fixture.ts";

const noSecrets = async () => {
  throw new Error("no secrets in this test");
};

test("erase removes every value of the subject from every table and deprovisions the account", async () => {
  const t = await populatedEngine();
  try {
    // Free text elsewhere that names them: a run message of another run.
    await t.db.query(
      `insert into run_history (ma, profile, status, started_at, finished_at, message) values ('directory', 'export', 'failed', now(), now(), $1)`,
      ["target refused Cartography-77 (E0007); will retry"],
    );
    const before = await dumpAllTables(t.db);
    // The scan sees the subject before: in the metaverse, both connector spaces and the run errors.
    const seen = occurrences(before, SUBJECT_VALUES);
    for (const table of ["mv_object", "cs_object", "run_error"]) assert.ok(seen.some((s) => s.startsWith(table + ":")), `the subject is in ${table} before`);
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0008")?.manager, "E0007");
    const subjectMv = await mvIdOf(t.db, "E0007");

    // Whole tokens only: E00071 is somebody else.
    const tokens = await t.db.query<{ r: string }>(`select regexp_replace('E00071 E0007. xE0007 (E0007)', $1, '[erased]', 'g') as r`, [tokenPattern("E0007")]);
    assert.equal(tokens.rows[0].r, "E00071 [erased]. xE0007 ([erased])");

    const subject = await resolveSubject(t.db, "hr/E0007");
    const held = await collectSubject(t.db, t.engine.config(), subject);
    assert.equal(held.referencedBy.length, 2, "E0008 and E0009 reference the subject");

    const report = await eraseSubject(t.engine, subject, { actor: "test", secrets: noSecrets });
    assert.deepEqual(
      report.entries.map((e) => `${e.ma}/${e.anchor}:${e.action}:${e.outcome}`).sort(),
      ["directory/E0007:delete:done", "hr/E0007:remove:done"],
    );
    assert.equal(report.counts.referencingObjects, 2);

    const after = await dumpAllTables(t.db);
    assert.deepEqual(occurrences(after, SUBJECT_VALUES), [], "no value of the subject is left anywhere");
    const message = (await t.db.query<{ message: string }>(`select message from run_history where message like 'target refused%'`)).rows[0].message;
    assert.equal(message, "target refused [erased] ([erased]); will retry", "redacted, the rest of the message kept");
    assert.ok((after.get("mv_object") ?? []).length > 0 && (after.get("run_error") ?? []).length >= 0, "the scan read the tables");
    assert.equal(t.readDirectory().some((r) => r.employeeId === "E0007"), false, "the directory account was deleted");
    const mvRefs = await t.db.query<{ id: number }>(`select id from mv_object where attrs->>'manager' = $1`, [String(subjectMv)]);
    assert.equal(mvRefs.rows.length, 0, "nobody references the erased metaverse object");

    // The next cycle clears the manager in the directory and does not bring the subject back.
    const cycle = await t.engine.cycle();
    assert.notEqual(cycle.status, "failed");
    const dir = t.readDirectory();
    assert.equal(dir.find((r) => r.employeeId === "E0008")?.manager, "");
    assert.equal(dir.some((r) => r.employeeId === "E0007"), false);
    // HR still has the subject's record: only the colleagues' managerId (the anchor) comes back.
    const later = occurrences(await dumpAllTables(t.db), SUBJECT_VALUES.filter((v) => v !== "E0007"));
    assert.deepEqual(later, [], "a suppressed record's values are not imported again");
  } finally {
    await t.close();
  }
});

test("erasing a leaver removes the deleted metaverse object kept for the grace period and the HR disconnector", async () => {
  const t = await populatedEngine();
  try {
    t.writeHr(people().map((p) => (p.employeeId === "E0011" ? { ...p, status: "leaver" } : p)));
    await t.engine.cycle();
    const values = ["E0011", "Given11", "Family11", "Given11 Family11"];
    assert.ok(occurrences(await dumpAllTables(t.db), values).some((s) => s.startsWith("mv_object:")), "kept, deleted, in the metaverse");
    const report = await eraseSubject(t.engine, await resolveSubject(t.db, "E0011"), { actor: "test", secrets: noSecrets });
    assert.equal(report.counts.metaverseObjects, 1);
    assert.deepEqual(report.entries.map((e) => `${e.ma}/${e.anchor}:${e.action}`), ["hr/E0011:remove"]);
    assert.deepEqual(occurrences(await dumpAllTables(t.db), values), []);
  } finally {
    await t.close();
  }
});
