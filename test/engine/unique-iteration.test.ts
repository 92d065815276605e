// unique: true on an outbound flow, with `iteration` in its expression: namesakes get jsmith,
// jsmith2, jsmith3; an account keeps its value while that is still one of the expression's values
// (jsmith2 stays jsmith2 when jsmith leaves); a changed input (a new surname) chooses anew.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openTestEngine } from "./fixture.ts";
import { accounts, hrPerson, uniqueConfig } from "./unique-fixture.ts";

test("namesakes get the first value no other account holds, and keep it", async () => {
  const t = await openTestEngine();
  try {
    const john1 = hrPerson("E0001", "John", "Smith");
    const john2 = hrPerson("E0002", "John", "Smith");
    const ann = hrPerson("E0003", "Ann", "Other");
    t.writeHr([john1, john2, ann]);
    await t.engine.apply(uniqueConfig(t.dir));
    const first = await t.engine.cycle();
    assert.equal(first.status, "success");
    assert.deepEqual(accounts(t), { E0001: "jsmith", E0002: "jsmith2", E0003: "aother" }, "two John Smiths in one run");

    const again = await t.engine.cycle({ full: true });
    assert.equal(again.changed, false, "a full cycle changes nothing: each account keeps its value");

    const john4 = hrPerson("E0004", "John", "Smith");
    t.writeHr([john1, john2, ann, john4]);
    await t.engine.cycle();
    assert.deepEqual(accounts(t), { E0001: "jsmith", E0002: "jsmith2", E0003: "aother", E0004: "jsmith3" }, "a third, later");

    // jsmith leaves: the account is deleted, and jsmith2 does not become jsmith.
    t.writeHr([{ ...john1, status: "terminated" }, john2, ann, john4]);
    await t.engine.cycle();
    assert.deepEqual(accounts(t), { E0002: "jsmith2", E0003: "aother", E0004: "jsmith3" });
    assert.equal((await t.engine.cycle({ full: true })).changed, false, "and no full sync flips them either");

    // The freed value goes to the next newcomer: the first free iteration, not the next number.
    const john5 = hrPerson("E0005", "John", "Smith");
    t.writeHr([{ ...john1, status: "terminated" }, john2, ann, john4, john5]);
    await t.engine.cycle();
    assert.deepEqual(accounts(t), { E0002: "jsmith2", E0003: "aother", E0004: "jsmith3", E0005: "jsmith" });

    // A changed surname: jsmith2 is no iteration of "jjones…" any more, so a new value is chosen.
    t.writeHr([{ ...john1, status: "terminated" }, { ...john2, sn: "Jones" }, ann, john4, john5]);
    const renamed = await t.engine.cycle();
    assert.equal(renamed.status, "success");
    assert.deepEqual(accounts(t), { E0002: "jjones", E0003: "aother", E0004: "jsmith3", E0005: "jsmith" });
    assert.equal((await t.engine.cycle({ full: true })).changed, false);
  } finally {
    await t.close();
  }
});

test("two renamed people and a newcomer who want the same value in one sync: metaverse-id order decides", async () => {
  const t = await openTestEngine();
  try {
    // E0001 is read (and projected) first: its metaverse id is the lower one.
    const jane = hrPerson("E0001", "Jane", "Doe");
    const john = hrPerson("E0002", "John", "Roe");
    t.writeHr([jane, john]);
    await t.engine.apply(uniqueConfig(t.dir));
    await t.engine.cycle();
    assert.deepEqual(accounts(t), { E0001: "jdoe", E0002: "jroe" });

    // Both become J. Poe in the same sync, and a third J. Poe arrives.
    t.writeHr([{ ...jane, sn: "Poe" }, { ...john, sn: "Poe" }, hrPerson("E0003", "Joe", "Poe")]);
    await t.engine.cycle();
    assert.deepEqual(accounts(t), { E0001: "jpoe", E0002: "jpoe2", E0003: "jpoe3" });
  } finally {
    await t.close();
  }
});
