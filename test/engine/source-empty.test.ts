// A source that vanishes is an error, and one that comes back empty is held: neither may read as
// "every person left". A missing file fails the import (naming the file); an empty or header-only
// file, with objects in the connector space, is held as "source empty" unless allowEmpty.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openTestEngine, person, standardConfig, type TestEngine } from "./fixture.ts";

async function populated(): Promise<TestEngine> {
  const t = await openTestEngine();
  t.writeHr(Array.from({ length: 12 }, (_, i) => person(i + 1)));
  // No guard by threshold: what holds here is the empty-source check alone.
  const config = standardConfig(t.dir);
  for (const ma of config.managementAgents) ma.spec.deletionThreshold = {};
  await t.engine.apply(config);
  assert.equal((await t.engine.cycle()).status, "success");
  return t;
}

async function unchanged(t: TestEngine): Promise<void> {
  const live = (await t.db.query<{ n: number }>(`select count(*) as n from mv_object where deleted_at is null`)).rows[0].n;
  assert.equal(live, 12, "the metaverse keeps every object");
  assert.equal((await t.db.query(`select 1 from cs_object where ma = 'hr' and deleted`)).rows.length, 0);
  assert.equal(t.readDirectory().length, 12, "no account deleted");
}

test("a missing source file fails the import and names the file", async () => {
  const t = await populated();
  try {
    rmSync(join(t.dir, "hr.csv"));
    for (const full of [false, true]) {
      const r = await t.engine.cycle({ full });
      const imp = r.runs.find((x) => x.ma === "hr" && x.profile.endsWith("import"))!;
      assert.equal(imp.status, "failed");
      assert.match(imp.message ?? "", new RegExp(`${join(t.dir, "hr.csv")}: the file does not exist: the source is gone`));
      assert.equal(r.status, "failed");
      await unchanged(t);
    }
  } finally {
    await t.close();
  }
});

for (const [name, content] of [
  ["an empty file", ""],
  ["a header-only file", "employeeId,givenName,sn,department,managerId,status,employeeType\n"],
] as const) {
  test(`${name} is held as "source empty"`, async () => {
    const t = await populated();
    try {
      writeFileSync(join(t.dir, "hr.csv"), content);
      for (const full of [false, true]) {
        const r = await t.engine.cycle({ full });
        const imp = r.runs.find((x) => x.ma === "hr" && x.profile.endsWith("import"))!;
        assert.equal(imp.status, "stopped-source-empty");
        assert.equal(imp.blockedDeletes, 12);
        assert.match(imp.message ?? "", /^source empty: hr returned no object while its connector space holds 12; nothing was deleted/);
        assert.match(imp.message ?? "", /--allow-deletes.*allowEmpty: true/);
        assert.equal(r.status, "stopped-source-empty");
        await unchanged(t);
      }
      assert.equal((await t.engine.status("hr")).heldImport?.deletes, 12);
    } finally {
      await t.close();
    }
  });
}

test("allowEmpty: a source that may really be empty empties", async () => {
  const t = await populated();
  try {
    const config = t.engine.config()!;
    config.managementAgents.find((m) => m.metadata.name === "hr")!.spec.allowEmpty = true;
    await t.engine.apply(config);
    writeFileSync(join(t.dir, "hr.csv"), "employeeId,givenName,sn,department,managerId,status,employeeType\n");
    const r = await t.engine.cycle();
    assert.equal(r.status, "success");
    assert.equal(t.readDirectory().length, 0);
  } finally {
    await t.close();
  }
});

test("a target file that was never written is not a vanished source", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(2)]);
    await t.engine.apply(standardConfig(t.dir));
    const r = await t.engine.cycle();
    assert.equal(r.status, "success");
    const first = r.runs.find((x) => x.ma === "directory" && x.profile === "full-import")!;
    assert.match(first.message ?? "", /does not exist yet; nothing to import until the first export creates it/);
    assert.equal(t.readDirectory().length, 2);
    // Once written, the target vanishing is an error like any source's.
    rmSync(join(t.dir, "directory.csv"));
    const gone = await t.engine.cycle();
    assert.equal(gone.runs.find((x) => x.ma === "directory" && x.profile.endsWith("import"))?.status, "failed");
  } finally {
    await t.close();
  }
});
