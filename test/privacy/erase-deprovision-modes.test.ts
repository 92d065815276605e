// How an erasure treats the subject's accounts: per the outbound rule (here `disable`, which sends
// the rule's deprovision flows), or with keepTargets only disconnected (the account stays, untouched).
// Either way idsync keeps nothing of them and suppresses the anchors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { eraseSubject } from "../../src/engine/erase.ts";
import { resolveSubject } from "../../src/privacy/subject.ts";
import { directoryOutbound, standardConfig } from "../engine/builders.ts";
import { dumpAllTables, occurrences, populatedEngine, SUBJECT_VALUES } from "./fixture.ts";

const secrets = async () => "";

test("keepTargets leaves the account in the target and removes idsync's copy", async () => {
  const t = await populatedEngine();
  try {
    const report = await eraseSubject(t.engine, await resolveSubject(t.db, "E0007"), { keepTargets: true, actor: "test", secrets });
    assert.deepEqual(report.entries.map((e) => `${e.ma}:${e.action}:${e.outcome}`).sort(), ["directory:disconnect:done", "hr:remove:done"]);
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0007")?.displayName, "Zerlinda Quaintrelle", "the account is untouched");
    assert.deepEqual(occurrences(await dumpAllTables(t.db), SUBJECT_VALUES), []);
    await t.engine.cycle({ full: true });
    assert.equal((await t.db.query(`select 1 from cs_object where anchor = 'E0007'`)).rows.length, 0, "the kept account is not re-imported");
  } finally {
    await t.close();
  }
});

test("a `disable` rule sends its deprovision flows, then idsync forgets the account", async () => {
  const t = await populatedEngine();
  try {
    const config = standardConfig(t.dir);
    config.syncRules[1] = directoryOutbound({ deprovision: "disable", deprovisionFlows: [{ target: "department", expression: '"disabled"' }] });
    await t.engine.apply(config);
    await t.engine.cycle();
    const report = await eraseSubject(t.engine, await resolveSubject(t.db, "E0007"), { actor: "test", secrets });
    assert.deepEqual(report.entries.map((e) => `${e.ma}:${e.action}:${e.outcome}`).sort(), ["directory:disable:done", "hr:remove:done"]);
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0007")?.department, "disabled");
    assert.deepEqual(occurrences(await dumpAllTables(t.db), SUBJECT_VALUES), []);
  } finally {
    await t.close();
  }
});

test("a deprovisioning that cannot be sent yet keeps only the anchor, and the next export finishes it", async () => {
  const t = await populatedEngine();
  try {
    const staging = standardConfig(t.dir);
    staging.managementAgents[1].spec.stagingMode = true;
    await t.engine.apply(staging);
    const report = await eraseSubject(t.engine, await resolveSubject(t.db, "E0007"), { actor: "test", secrets });
    const directory = report.entries.find((e) => e.ma === "directory")!;
    assert.deepEqual([directory.action, directory.outcome, directory.detail], ["delete", "held", "staging mode: nothing is sent"]);
    const held = (await t.db.query<{ anchor: string; attrs: object; op: string }>(
      `select c.anchor, c.attrs, p.op from cs_object c join pending_export p on p.cs_id = c.id where c.ma = 'directory' and c.anchor = 'E0007'`,
    )).rows;
    assert.deepEqual(held, [{ anchor: "E0007", attrs: {}, op: "delete" }], "the anchor and the pending delete, nothing else");
    assert.deepEqual(occurrences(await dumpAllTables(t.db), SUBJECT_VALUES.filter((v) => v !== "E0007")), []);

    await t.engine.apply(standardConfig(t.dir)); // staging mode off
    await t.engine.cycle();
    assert.equal(t.readDirectory().some((r) => r.employeeId === "E0007"), false, "the delete was sent");
    assert.equal((await t.db.query(`select 1 from cs_object where ma = 'directory' and anchor = 'E0007'`)).rows.length, 0, "and confirmed");
    assert.deepEqual(occurrences(await dumpAllTables(t.db), SUBJECT_VALUES.filter((v) => v !== "E0007")), []);
  } finally {
    await t.close();
  }
});
