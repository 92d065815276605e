// Identities survive a mistake: a metaverse object deleted by a deletion rule stays soft-deleted
// for its grace period, and when its source object comes back (same anchor, or a join rule match)
// it is restored with the same id and reconnected to its target objects: restoring an HR file
// after an accident deletes and re-provisions nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyCounts } from "../../src/engine/index.ts";
import { directoryAgent, directoryOutbound, hrAgent, hrInbound, openTestEngine, person, retention, type TestEngine } from "./fixture.ts";

const ids = async (t: TestEngine) =>
  new Map((await t.db.query<{ id: number; e: string; deleted: boolean }>(`select id, attrs->>'employeeId' as e, deleted_at is not null as deleted from mv_object`)).rows.map((r) => [r.e, r]));
const countsOf = (r: Awaited<ReturnType<TestEngine["engine"]["cycle"]>>, ma: string, profile: string) => {
  const sum = { ...emptyCounts() };
  for (const x of r.runs.filter((x) => x.ma === ma && x.profile.endsWith(profile))) for (const [k, v] of Object.entries(x.counts)) sum[k as keyof typeof sum] += v;
  return sum;
};

test("restoring the HR file after an accident brings the same identities and accounts back", async () => {
  const t = await openTestEngine();
  try {
    const people = Array.from({ length: 40 }, (_, i) => person(i + 1));
    t.writeHr(people);
    await t.engine.apply({
      managementAgents: [hrAgent(t.dir, { deletionThreshold: {} }), directoryAgent(t.dir, { deletionThreshold: { maxDeletes: 5 } })],
      syncRules: [hrInbound(), directoryOutbound()],
      retentionPolicies: [retention(["hr"])],
    });
    await t.engine.cycle();
    const before = await ids(t);
    const accounts = (await t.db.query<{ id: number }>(`select id from cs_object where ma = 'directory' order by id`)).rows.map((r) => r.id);

    // The accident: half of HR gone. The metaverse objects are deleted (soft), the directory's
    // deletes are held by its threshold.
    t.writeHr(people.slice(0, 20));
    const accident = await t.engine.cycle();
    assert.equal(countsOf(accident, "hr", "sync").deletes, 20, "20 metaverse objects deleted");
    assert.equal(accident.runs.find((r) => r.ma === "directory" && r.profile === "export")?.status, "stopped-deletion-threshold");
    assert.equal(t.readDirectory().length, 40);

    // The file is restored.
    t.writeHr(people);
    const restored = await t.engine.cycle();
    assert.equal(restored.status, "success", JSON.stringify(restored.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
    assert.equal(countsOf(restored, "hr", "sync").restores, 20, "restored, not projected");
    assert.equal(countsOf(restored, "hr", "sync").projections, 0);
    assert.equal(countsOf(restored, "hr", "sync").provisions, 0, "no account provisioned anew");
    assert.equal(countsOf(restored, "directory", "export").adds, 0);
    assert.equal(countsOf(restored, "directory", "export").deletes, 0, "no account deleted");
    const after = await ids(t);
    for (const [e, m] of before) {
      assert.equal(after.get(e)?.id, m.id, `${e} has the same metaverse id`);
      assert.equal(after.get(e)?.deleted, false);
    }
    assert.equal(after.size, 40, "no second identity for anyone");
    assert.deepEqual(
      (await t.db.query<{ id: number }>(`select id from cs_object where ma = 'directory' and mv_id is not null order by id`)).rows.map((r) => r.id),
      accounts,
      "the same accounts, reconnected",
    );
    assert.equal((await t.db.query(`select 1 from pending_export`)).rows.length, 0, "the held deletes are gone");
    assert.equal(t.readDirectory().length, 40);
    assert.equal((await t.engine.cycle()).changed, false);
  } finally {
    await t.close();
  }
});

test("a leaver back within the grace period gets the same identity and the disabled account back", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(2)]);
    const outbound = directoryOutbound({ deprovision: "disable", deprovisionFlows: [{ target: "department", expression: '"DISABLED"' }] });
    await t.engine.apply({ managementAgents: [hrAgent(t.dir), directoryAgent(t.dir)], syncRules: [hrInbound(), outbound], retentionPolicies: [retention(["hr"])] });
    await t.engine.cycle();
    const before = await ids(t);
    const account = (await t.db.query<{ id: number }>(`select id from cs_object where ma = 'directory' and anchor = 'E0002'`)).rows[0].id;

    t.writeHr([person(1), person(2, { status: "leaver" })]);
    await t.engine.cycle();
    assert.equal((await ids(t)).get("E0002")?.deleted, true);
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0002")?.department, "DISABLED");

    t.writeHr([person(1), person(2)]);
    const back = await t.engine.cycle();
    assert.equal(countsOf(back, "hr", "sync").restores, 1);
    assert.equal(countsOf(back, "directory", "export").adds, 0, "no new account");
    assert.equal(countsOf(back, "directory", "export").updates, 1, "the account is enabled again");
    assert.equal((await ids(t)).get("E0002")?.id, before.get("E0002")?.id);
    assert.equal((await t.db.query<{ mv_id: number }>(`select mv_id from cs_object where id = $1`, [account])).rows[0].mv_id, before.get("E0002")?.id);
    assert.equal(t.readDirectory().find((r) => r.employeeId === "E0002")?.department, "Finance");
  } finally {
    await t.close();
  }
});

test("a returning object whose tombstone is gone restores through the join rules", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(2), person(3)]);
    await t.engine.apply({ managementAgents: [hrAgent(t.dir), directoryAgent(t.dir)], syncRules: [hrInbound(), directoryOutbound()], retentionPolicies: [retention(["hr"])] });
    await t.engine.cycle();
    const before = await ids(t);
    t.writeHr([person(1), person(2)]);
    await t.engine.cycle();
    assert.equal((await ids(t)).get("E0003")?.deleted, true);
    // The source's record of it is purged (as retention does with disconnectors): only the
    // metaverse object, soft-deleted, remembers the person.
    await t.db.query(`delete from cs_object where ma = 'hr' and anchor = 'E0003'`);

    t.writeHr([person(1), person(2), person(3)]);
    const back = await t.engine.cycle();
    assert.equal(countsOf(back, "hr", "sync").restores, 1);
    assert.equal(countsOf(back, "hr", "sync").projections, 0);
    assert.equal((await ids(t)).get("E0003")?.id, before.get("E0003")?.id);
    assert.equal((await ids(t)).size, 3);
  } finally {
    await t.close();
  }
});
