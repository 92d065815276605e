// objectGUID and objectSid in AD's string forms, both ways.
import assert from "node:assert/strict";
import { test } from "node:test";
import { guidToBytes, guidToString, sidToBytes, sidToString } from "../../../src/connectors/ad/index.ts";

test("a GUID's first three groups are little-endian on the wire", () => {
  const wire = Buffer.from("541787cfb86ac34c9ebcd7287c7bf544", "hex");
  assert.equal(guidToString(wire), "cf871754-6ab8-4cc3-9ebc-d7287c7bf544");
  assert.deepEqual(guidToBytes("CF871754-6AB8-4CC3-9EBC-D7287C7BF544"), wire);
});

test("a GUID of the wrong length or form is refused, not misread", () => {
  assert.throws(() => guidToString(Buffer.alloc(15)), /16 bytes/);
  assert.throws(() => guidToBytes("cf871754-6ab8-4cc3-9ebc"), /not a GUID/);
});

test("a domain user's SID", () => {
  const sid = "S-1-5-21-3623811015-3361044348-30300820-1013";
  const wire = sidToBytes(sid);
  assert.equal(wire.length, 8 + 4 * 5);
  assert.equal(wire[0], 1);
  assert.equal(wire[1], 5);
  assert.equal(sidToString(wire), sid);
  assert.equal(sidToString(sidToBytes("S-1-5-32-544")), "S-1-5-32-544", "BUILTIN\\Administrators");
  assert.throws(() => sidToString(wire.subarray(0, 20)), /sub-authorities/);
});
