// `subject erase --dry-run` shows what would be done and changes nothing: every row of every table
// is the same afterwards (not even the hashing salt is generated), and so is the target system.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eraseSubject } from "../../src/engine/erase.ts";
import { resolveSubject } from "../../src/privacy/subject.ts";
import { dumpAllTables, idsync, populatedEngine } from "./fixture.ts";

test("erase --dry-run reports the plan and changes nothing", async () => {
  const t = await populatedEngine();
  try {
    const directory = readFileSync(join(t.dir, "directory.csv"), "utf8");
    const before = await dumpAllTables(t.db);
    assert.equal(before.get("privacy_salt")?.length, 0);

    const plan = await eraseSubject(t.engine, await resolveSubject(t.db, "E0007"), { dryRun: true, actor: "test", secrets: async () => "" });
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.entries.map((e) => `${e.ma}:${e.action}`).sort(), ["directory:delete", "hr:remove"]);
    assert.equal(plan.counts.referencingObjects, 2);
    assert.deepEqual(await dumpAllTables(t.db), before);

    const cli = await idsync(t.url, ["subject", "erase", "hr/E0007", "--dry-run"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /Would erase:/);
    assert.match(cli.stdout, /directory\/E0007: deleted in the target system/);
    assert.match(cli.stdout, /hr is a source of authority and still holds this person/);
    assert.deepEqual(await dumpAllTables(t.db), before, "the CLI's dry run changed nothing either");
    assert.equal(readFileSync(join(t.dir, "directory.csv"), "utf8"), directory);
  } finally {
    await t.close();
  }
});
