// RFC 4514 DN parsing and normalization (no server needed).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { DNSyntaxError, dnEquals, formatDN, isWithin, modifyDNTarget, normalizeDN, parentDN, parseDN } from "../../../src/connectors/ldap/dn.ts";
import { escapeDNComponent, normalizeDN as exprNormalizeDN } from "../../../src/expr/dn.ts";

test("escaped specials, hex escapes, multi-valued RDNs and BER values parse", () => {
  assert.deepEqual(parseDN(String.raw`cn=O'Brien\, Jr. \+ \"Sales\" \<Test\>\#1,ou=people,dc=example,dc=org`)[0], [
    { type: "cn", value: `O'Brien, Jr. + "Sales" <Test>#1` },
  ]);
  assert.equal(parseDN(String.raw`cn=\C3\85sa \C3\98deg\C3\A5rd,dc=x`)[0][0].value, "Åsa Ødegård");
  assert.deepEqual(parseDN("cn=a+sn=b,dc=x")[0], [{ type: "cn", value: "a" }, { type: "sn", value: "b" }]);
  assert.deepEqual(parseDN("cn=#04024869,dc=x")[0], [{ type: "cn", value: "#04024869", ber: true }]);
  assert.equal(parseDN(String.raw`cn=\ lead and trail\ ,dc=x`)[0][0].value, " lead and trail ");
  assert.equal(parseDN("cn = spaced  , dc=x")[0][0].value, "spaced");
  assert.deepEqual(parseDN(""), []);
});

test("malformed DNs are rejected with the DN in the message", () => {
  for (const bad of ["cn", "cn=a,", "=a", "cn=a\\", "c n=a"]) {
    assert.throws(() => parseDN(bad), (e: unknown) => e instanceof DNSyntaxError && e.message.includes(JSON.stringify(bad)), bad);
  }
});

test("normalization: case, escaping style, spacing and RDN order do not matter", () => {
  const a = String.raw`CN=Åsa Ødegård+UID=asa , OU=People,DC=Example,DC=Org`;
  const b = String.raw`uid=ASA+cn=\C3\85sa \C3\98deg\C3\A5rd,ou=people,dc=example,dc=org`;
  assert.equal(normalizeDN(a), normalizeDN(b));
  assert.ok(dnEquals(a, b));
  assert.equal(normalizeDN(String.raw`cn=a\2cb,dc=x`), String.raw`cn=a\,b,dc=x`);
  assert.notEqual(normalizeDN("cn=a,dc=x"), normalizeDN("cn=a\\,dc=x,dc=x"));
});

test("parent, ancestry and the modifyDN target form", () => {
  assert.equal(parentDN(String.raw`cn=a\,b,ou=people,dc=x`), "ou=people,dc=x");
  assert.equal(parentDN("dc=x"), "");
  assert.ok(isWithin("cn=a,OU=People,dc=x", "ou=people,dc=x"));
  assert.ok(isWithin("ou=people,dc=x", "ou=people,dc=x"));
  assert.ok(!isWithin("cn=a,ou=other,dc=x", "ou=people,dc=x"));
  assert.ok(!isWithin(String.raw`cn=a\,ou=people,dc=y`, "ou=people,dc=y"), "an escaped comma is no separator");
  // A value ending in a backslash: the first unescaped comma must be the RDN separator.
  const target = modifyDNTarget(`cn=${escapeDNComponent("x\\")},ou=g,dc=x`);
  assert.equal(target, String.raw`cn=x\5c,ou=g,dc=x`);
  assert.equal(normalizeDN(target), normalizeDN(String.raw`cn=x\\,ou=g,dc=x`));
});

test("property: any value escaped with escapeDNComponent parses back to itself", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", minLength: 1 }), fc.string({ unit: "grapheme", minLength: 1 }), (v, w) => {
      const dn = `cn=${escapeDNComponent(v)}+sn=${escapeDNComponent(w)},ou=people,dc=example,dc=org`;
      const rdns = parseDN(dn);
      assert.equal(rdns.length, 4);
      assert.equal(rdns[0][0].value, v);
      assert.equal(rdns[0][1].value, w);
      assert.equal(normalizeDN(formatDN(rdns)), normalizeDN(dn));
    }),
    { numRuns: 300 },
  );
});

test("agrees with src/expr/dn.ts normalizeDN (the engine's) on well-formed DNs", () => {
  const dns = [
    `cn=${escapeDNComponent(`O'Brien, Jr. + "Sales" <Test>#1`)},ou=people,dc=example,dc=org`,
    "CN=Åsa Ødegård , OU=People,DC=Example,DC=Org",
    String.raw`cn=\C3\85sa,dc=x`,
    "uid=b+cn=a,dc=x",
    String.raw`cn=\ x\ ,dc=x`,
  ];
  for (const dn of dns) assert.equal(exprNormalizeDN(dn), normalizeDN(dn), dn);
});
