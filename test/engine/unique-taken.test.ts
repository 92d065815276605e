// What a unique value must not collide with, besides the accounts idsync made: accounts already in
// the target (imported, connected to nobody), compared case-insensitively as AD compares
// sAMAccountName. And when no value is free: an error of that object, not of the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine } from "./fixture.ts";
import { accounts, hrPerson, seedAccounts, uniqueConfig } from "./unique-fixture.ts";

test("a value an account in the target already holds is skipped, whatever its case", async () => {
  const t = await openTestEngine();
  try {
    seedAccounts(t, [["X0001", "JSmith"], ["X0002", "JSMITH3"]]);
    t.writeHr([hrPerson("E0001", "John", "Smith"), hrPerson("E0002", "Jim", "Smith")]);
    await t.engine.apply(uniqueConfig(t.dir));
    const r = await t.engine.cycle();
    assert.equal(r.status, "success");
    assert.deepEqual(accounts(t), { X0001: "JSmith", X0002: "JSMITH3", E0001: "jsmith2", E0002: "jsmith4" });
  } finally {
    await t.close();
  }
});

test("no free value within 100 iterations: that object's error names it, the rule, the attribute and the last try", async () => {
  const t = await openTestEngine();
  try {
    seedAccounts(t, Array.from({ length: 100 }, (_, i) => [`X${i + 1}`, i === 0 ? "jsmith" : `jsmith${i + 1}`] as [string, string]));
    t.writeHr([hrPerson("E0001", "John", "Smith"), hrPerson("E0002", "Ann", "Other")]);
    await t.engine.apply(uniqueConfig(t.dir));
    const r = await t.engine.cycle();
    assert.equal(r.status, "completed-with-errors", "the run completes");
    const errors = r.runs.flatMap((x) => x.errors).filter((e) => e.code === "unique-value-exhausted");
    assert.equal(errors.length, 1, JSON.stringify(r.runs.flatMap((x) => x.errors)));
    const mvId = (await t.db.query<{ id: number }>(`select id from mv_object where attrs->>'employeeId' = 'E0001'`)).rows[0].id;
    assert.match(errors[0].message, new RegExp(`^metaverse object ${mvId}: `));
    assert.ok(errors[0].message.includes("directory/account.accountName (rule directory-outbound)"), errors[0].message);
    assert.ok(errors[0].message.includes("within 100 iterations; the last candidate was 'jsmith100'"), errors[0].message);
    const a = accounts(t);
    assert.equal(a.E0002, "aother", "everyone else is provisioned");
    assert.equal(a.E0001, undefined, "no account with a taken name");
  } finally {
    await t.close();
  }
});

test("an expression without iteration: a taken value is an error of that object", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([hrPerson("E0001", "John", "Smith"), hrPerson("E0002", "Jane", "Smith")]);
    await t.engine.apply(uniqueConfig(t.dir, { expression: "mv.sn.lowerAscii()" }));
    const r = await t.engine.cycle();
    assert.equal(r.status, "completed-with-errors");
    const errors = r.runs.flatMap((x) => x.errors).filter((e) => e.code === "unique-value-taken");
    assert.equal(errors.length, 1);
    assert.ok(errors[0].message.includes("'smith' is held by another object, and the expression does not use iteration"), errors[0].message);
    assert.deepEqual(accounts(t), { E0001: "smith" }, "the first one (lower metaverse id) has it");
  } finally {
    await t.close();
  }
});
