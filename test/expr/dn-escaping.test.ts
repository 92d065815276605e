// RFC 4514 DN escaping through the CEL function escapeDNComponent, RFC 4515 filter escaping, and
// DN normalization for comparisons.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileExpression } from "../../src/expr/index.ts";
import { escapeDNComponent, escapeFilterValue, normalizeDN, splitDN } from "../../src/expr/dn.ts";

test("escapeDNComponent escapes the RFC 4514 specials", () => {
  assert.equal(escapeDNComponent(`O'Brien, Jr. + "Sales" <Test>#1`), `O'Brien\\, Jr. \\+ \\"Sales\\" \\<Test\\>#1`);
  assert.equal(escapeDNComponent("#lead"), "\\#lead");
  assert.equal(escapeDNComponent(" pad "), "\\ pad\\ ");
  assert.equal(escapeDNComponent("a;b=c\\d"), "a\\;b\\=c\\\\d");
  assert.equal(escapeDNComponent("Åsa Ødegård"), "Åsa Ødegård");
});

test("CEL DN expressions call escapeDNComponent", () => {
  const dn = compileExpression('"cn=" + escapeDNComponent(mv.displayName) + ",ou=people,dc=example,dc=org"', { variable: "mv" });
  assert.equal(dn.evaluate({ displayName: "Lee, Ann" }), "cn=Lee\\, Ann,ou=people,dc=example,dc=org");
});

test("splitDN round-trips escaped values", () => {
  const value = `O'Brien, Jr. + "Sales" <Test>#1`;
  const dn = `cn=${escapeDNComponent(value)},ou=people,dc=example,dc=org`;
  const rdns = splitDN(dn);
  assert.equal(rdns.length, 4);
  assert.deepEqual(rdns[0], [["cn", value]]);
  assert.deepEqual(splitDN("cn=\\C3\\85sa,dc=x")[0], [["cn", "Åsa"]]);
});

test("normalizeDN compares case- and space-insensitively, escape-safely", () => {
  assert.equal(normalizeDN("CN=Ann Lee , OU=People,dc=Example"), normalizeDN("cn=ann lee,ou=people,DC=example"));
  assert.notEqual(normalizeDN("cn=a\\,b,dc=x"), normalizeDN("cn=a,cn=b,dc=x"));
  assert.equal(normalizeDN("cn=\\C3\\85sa,dc=x"), normalizeDN("cn=Åsa,dc=x"));
});

test("escapeFilterValue cannot widen a filter", () => {
  assert.equal(escapeFilterValue("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
  assert.equal(escapeFilterValue("a\\b"), "a\\5cb");
});
