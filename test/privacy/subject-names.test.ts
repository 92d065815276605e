// Naming a SUBJECT: a metaverse id, MA/ANCHOR, a bare anchor, attribute=value. Names that reach
// one identity through several objects (an anchor in hr and in the directory) resolve; a name that
// reaches several identities is ambiguous and lists them — an erasure never guesses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AmbiguousSubject, resolveSubject, SubjectNotFound } from "../../src/privacy/subject.ts";
import { idsync, mvIdOf, people, populatedEngine } from "./fixture.ts";

test("subjects are named by id, anchor or attribute value; ambiguous names list candidates", async () => {
  const t = await populatedEngine();
  try {
    const db = t.db;
    const mv7 = await mvIdOf(db, "E0007");
    for (const name of [String(mv7), `mv:${mv7}`, "hr/E0007", "directory/E0007", "E0007", "employeeId=E0007", "givenName=zerlinda", "displayName=Zerlinda Quaintrelle"]) {
      assert.equal((await resolveSubject(db, name)).mvId, mv7, name);
    }
    assert.equal((await resolveSubject(db, "hr/E0007")).cs?.ma, "hr", "the connector named is kept");

    // A leaver: the metaverse object is deleted (kept for the grace period), HR keeps a
    // disconnector; naming the anchor names the deleted object, which still holds their data.
    const mv11 = await mvIdOf(db, "E0011");
    t.writeHr(people().map((p) => (p.employeeId === "E0011" ? { ...p, status: "leaver" } : p)));
    await t.engine.cycle();
    const leaver = await resolveSubject(db, "E0011");
    assert.deepEqual([leaver.mvId, leaver.cs?.ma, leaver.cs?.mv_id], [mv11, "hr", null]);
    // A disconnector nobody's lineage names is a subject of its own.
    await db.query(`insert into cs_object (ma, object_type, anchor, attrs) values ('hr', 'person', 'E0500', '{"employeeId": "E0500"}')`);
    const lone = await resolveSubject(db, "E0500");
    assert.deepEqual([lone.mvId, lone.cs?.anchor], [undefined, "E0500"]);

    await assert.rejects(resolveSubject(db, "E9999"), SubjectNotFound);
    await assert.rejects(resolveSubject(db, "department=Sales"), (e: unknown) => {
      assert.ok(e instanceof AmbiguousSubject);
      assert.ok(e.candidates.length >= 5);
      assert.match(e.message, /mv:\d+ \[person\] connectors: directory\/E0001, hr\/E0001/);
      return true;
    });
    // A numeric anchor that is also a metaverse id: two identities, so ambiguous.
    await db.query(`insert into cs_object (ma, object_type, anchor, attrs) values ('legacy', 'person', $1, '{}')`, [String(mv7)]);
    await assert.rejects(resolveSubject(db, String(mv7)), AmbiguousSubject);
    assert.equal((await resolveSubject(db, `mv:${mv7}`)).mvId, mv7, "mv:ID picks the metaverse object");
    assert.equal((await resolveSubject(db, `legacy/${mv7}`)).cs?.ma, "legacy");

    // Through the CLI: the candidates, exit 1, nothing done.
    const cli = await idsync(t.url, ["subject", "erase", "department=Sales", "--yes"]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /'department=Sales' names \d+ different subjects; name one of them:\n  mv:/);
    assert.equal((await db.query(`select 1 from audit_event`)).rows.length, 0, "nothing was erased");
  } finally {
    await t.close();
  }
});
