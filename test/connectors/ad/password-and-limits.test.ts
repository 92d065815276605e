// A new user's initial password, and sAMAccountName's limits checked before anything is sent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { randomInitialPassword, samAccountNameProblem } from "../../../src/connectors/ad/index.ts";

test("initial passwords are long, hold every character class, and never repeat", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const p = randomInitialPassword();
    assert.equal(p.length, 24);
    assert.match(p, /[A-Z]/);
    assert.match(p, /[a-z]/);
    assert.match(p, /[0-9]/);
    assert.match(p, /[^A-Za-z0-9]/);
    assert.ok(!p.includes('"'), "no quote: unicodePwd's value is the password in quotes");
    seen.add(p);
  }
  assert.equal(seen.size, 500);
});

test("sAMAccountName: at most 20 characters, none of AD's forbidden ones, no trailing period", () => {
  assert.equal(samAccountNameProblem("jgarcía"), undefined);
  assert.equal(samAccountNameProblem("o'brien"), undefined);
  assert.match(samAccountNameProblem("averyveryverylongname1")!, /22 characters long; AD allows at most 20/);
  assert.match(samAccountNameProblem("so'brien,jr")!, /holds ","/);
  assert.match(samAccountNameProblem("a[b]")!, /holds "\["/);
  assert.match(samAccountNameProblem("jr.")!, /ends with a period/);
  assert.match(samAccountNameProblem("")!, /empty/);
});
