// An erased person whom the source of authority still holds is not re-created by the next import
// (full or delta): their anchors are on the suppression list, as salted hashes. Unsuppressing lets
// them back in, and the engine treats them as a new person.
import { test } from "node:test";
import assert from "node:assert/strict";
import { eraseSubject } from "../../src/engine/erase.ts";
import { anchorHash, privacySalt, unsuppress } from "../../src/privacy/hash.ts";
import { resolveSubject } from "../../src/privacy/subject.ts";
import { populatedEngine } from "./fixture.ts";

test("a suppressed anchor is not imported again until it is unsuppressed", async () => {
  const t = await populatedEngine();
  try {
    await eraseSubject(t.engine, await resolveSubject(t.db, "hr/E0007"), { actor: "test", secrets: async () => "" });
    const salt = await privacySalt(t.db);
    const stored = (await t.db.query<{ ma: string; hash: string }>(`select ma, hash from erasure_suppression order by ma`)).rows;
    assert.deepEqual(stored, [
      { ma: "directory", hash: anchorHash(salt, "directory", "E0007") },
      { ma: "hr", hash: anchorHash(salt, "hr", "E0007") },
    ], "the anchors are kept as salted hashes, not in clear");

    const present = async () => ({
      cs: (await t.db.query(`select ma from cs_object where anchor = 'E0007'`)).rows.length,
      mv: (await t.db.query(`select id from mv_object where attrs->>'employeeId' = 'E0007'`)).rows.length,
      directory: t.readDirectory().some((r) => r.employeeId === "E0007"),
    });
    await t.engine.cycle(); // delta
    await t.engine.cycle({ full: true });
    assert.deepEqual(await present(), { cs: 0, mv: 0, directory: false }, "HR still lists E0007; idsync does not take them back");
    assert.ok(t.readDirectory().length === 11, "everybody else is still provisioned");

    assert.equal(await unsuppress(t.db, "hr", "E0007"), true);
    assert.equal(await unsuppress(t.db, "directory", "E0007"), true);
    await t.engine.cycle({ full: true });
    assert.deepEqual(await present(), { cs: 2, mv: 1, directory: true }, "back as a new person once unsuppressed");
  } finally {
    await t.close();
  }
});
