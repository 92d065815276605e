// normalizeDN / splitDN (the engine's DN comparison) at the edges of RFC 4514: escaped spaces at
// either end of a value (slapd spells them \20, escapeDNComponent `\ `), multi-byte hex escapes, a
// leading #, multi-valued RDNs. A DN that compared unequal to itself in another spelling was
// renamed on every full cycle.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { escapeDNComponent, normalizeDN, splitDN } from "../../src/expr/dn.ts";
import { normalizeDN as connectorNormalizeDN, parseDN } from "../../src/connectors/ldap/dn.ts";

const same = (a: string, b: string) => assert.equal(normalizeDN(a), normalizeDN(b), `${a} ≡ ${b}`);
const differ = (a: string, b: string) => assert.notEqual(normalizeDN(a), normalizeDN(b), `${a} ≢ ${b}`);

test("an escaped leading space is part of the value however it is spelled", () => {
  same(String.raw`cn=\20leading,dc=x`, String.raw`cn=\ leading,dc=x`);
  assert.deepEqual(splitDN(String.raw`cn=\20leading,dc=x`)[0], [["cn", " leading"]]);
  assert.deepEqual(splitDN(String.raw`cn=\ leading,dc=x`)[0], [["cn", " leading"]]);
  differ(String.raw`cn=\20leading,dc=x`, "cn=leading,dc=x");
  // Unescaped leading spaces are not part of it; one after an escaped one is.
  same("cn=  leading,dc=x", "cn=leading,dc=x");
  same(String.raw`cn=\20 x,dc=x`, String.raw`cn=\  x,dc=x`);
  assert.deepEqual(splitDN(String.raw`cn=\20 x,dc=x`)[0], [["cn", "  x"]]);
});

test("an escaped trailing space is part of the value; x\\20 and x differ", () => {
  same(String.raw`cn=x\20,dc=x`, String.raw`cn=x\ ,dc=x`);
  differ(String.raw`cn=x\20,dc=x`, "cn=x,dc=x");
  assert.deepEqual(splitDN(String.raw`cn=x\20,dc=x`)[0], [["cn", "x "]]);
  // An unescaped space after the escaped one is insignificant, as are spaces before a separator.
  same(String.raw`cn=x\20 ,dc=x`, String.raw`cn=x\ ,dc=x`);
  same("cn=x  ,dc=x", "cn=x,dc=x");
  same(String.raw`cn=\20both\20,dc=x`, String.raw`cn=\ both\ ,dc=x`);
  assert.equal(normalizeDN(String.raw`cn=\20both\20,dc=x`), String.raw`cn=\ both\ ,dc=x`);
  // A value that is only an escaped space, and a NUL byte before an unescaped space.
  same(String.raw`cn=\20,dc=x`, String.raw`cn=\ ,dc=x`);
  differ(String.raw`cn=\20,dc=x`, "cn=,dc=x");
  assert.deepEqual(splitDN("cn=a\\00 ,dc=x")[0], [["cn", "a\u0000"]]);
});

test("multi-byte hex escapes decode as one UTF-8 sequence, in any case", () => {
  same(String.raw`cn=caf\c3\a9,dc=x`, "cn=café,dc=x");
  same(String.raw`cn=caf\C3\A9,dc=x`, "cn=CAFÉ,dc=x");
  same(String.raw`cn=\c3\a9\20,dc=x`, String.raw`cn=é\ ,dc=x`);
  assert.deepEqual(splitDN(String.raw`cn=\e2\82\ac\2c5,dc=x`)[0], [["cn", "€,5"]]);
  differ(String.raw`cn=caf\c3\a9,dc=x`, "cn=cafe,dc=x");
});

test("a leading # is a character when escaped and a BER value when not", () => {
  same(String.raw`cn=\#lead,dc=x`, String.raw`cn=\23lead,dc=x`);
  assert.deepEqual(splitDN(String.raw`cn=\23lead,dc=x`)[0], [["cn", "#lead"]]);
  same(String.raw`cn=a#b,dc=x`, String.raw`cn=a\#b,dc=x`);
  // #<hex> is RFC 4514's BER form: compared as written (hex case aside), never as the text "#…".
  same("cn=#04024869,dc=x", "CN=#04024869 ,DC=x");
  differ("cn=#04024869,dc=x", String.raw`cn=\#04024869,dc=x`);
  assert.equal(normalizeDN("cn=#04024869,dc=x"), "cn=#04024869,dc=x");
  // Not hex: leniently, a plain leading # (the connector's parser rejects it).
  assert.equal(normalizeDN("cn=#lead,dc=x"), String.raw`cn=\#lead,dc=x`);
});

test("multi-valued RDNs: AVA order, spacing and escaped spaces at the ends of each value", () => {
  same("cn=a+sn=b,dc=x", "SN=b + CN=a,dc=x");
  same(String.raw`cn=\20a\20+sn=b,dc=x`, String.raw`sn=b+cn=\ a\ ,dc=x`);
  differ(String.raw`cn=a\20+sn=b,dc=x`, "cn=a+sn=b,dc=x");
  differ(String.raw`cn=a\+sn=b,dc=x`, "cn=a+sn=b,dc=x");
  assert.deepEqual(splitDN(String.raw`cn=a\20+sn=\20b,dc=x`)[0], [["cn", "a "], ["sn", " b"]]);
  assert.equal(splitDN(String.raw`cn=a\2bsn=b,dc=x`)[0].length, 1, "an escaped + is no separator");
});

test("lenient: odd input never throws", () => {
  for (const dn of ["", "cn", "cn=a,", "cn=a+", "=a", "cn=a\\", "cn=\\2", "cn=#04zz,dc=x", ",,"]) {
    assert.equal(typeof normalizeDN(dn), "string", dn);
  }
  assert.deepEqual(splitDN("cn=a,"), [[["cn", "a"]]]);
  assert.deepEqual(splitDN(""), []);
});

test("the LDAP connector's normalizeDN agrees on these edges; it rejects text after a #hex value", () => {
  for (const dn of [
    String.raw`cn=\20leading,dc=x`,
    String.raw`cn=x\20,dc=x`,
    String.raw`cn=x\20 ,dc=x`,
    String.raw`cn=\20a\20+sn=\20b,dc=x`,
    String.raw`cn=caf\C3\A9\20,dc=x`,
    String.raw`cn=\23lead,dc=x`,
    "cn=#04024869 ,dc=x",
    "cn=a\\00 ,dc=x",
  ]) {
    assert.equal(normalizeDN(dn), connectorNormalizeDN(dn), dn);
  }
  // Read as a separator, the "z" would have started a new RDN of type "z,dc".
  assert.throws(() => parseDN("cn=#04zz,dc=x"), /text after a #hex value/);
});

/** Every UTF-8 byte as \XX: the other spelling slapd may hand back. */
const hexAll = (v: string) => [...Buffer.from(v, "utf8")].map((b) => "\\" + b.toString(16).padStart(2, "0")).join("");

test("property: a value survives either spelling, and both parsers agree", () => {
  const value = fc.string({ unit: fc.constantFrom(" ", "a", "É", "#", ",", "+", "\\", "=", "é", "😀", "\u0000"), minLength: 1, maxLength: 8 });
  fc.assert(
    fc.property(value, value, (v, w) => {
      const canonical = `cn=${escapeDNComponent(v)}+sn=${escapeDNComponent(w)},ou=people,dc=example,dc=org`;
      const hex = `cn=${hexAll(v)}+sn=${hexAll(w)},ou=people,dc=example,dc=org`;
      assert.deepEqual(splitDN(hex)[0], [["cn", v], ["sn", w]]);
      assert.deepEqual(splitDN(canonical)[0], [["cn", v], ["sn", w]]);
      assert.equal(normalizeDN(hex), normalizeDN(canonical));
      assert.equal(normalizeDN(hex), connectorNormalizeDN(hex));
      assert.equal(normalizeDN(canonical), connectorNormalizeDN(canonical));
      assert.deepEqual(parseDN(hex)[0].map((a) => a.value), [v, w]);
    }),
    { numRuns: 500 },
  );
});
