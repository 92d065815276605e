// Escaping for distinguished names (RFC 4514) and search filters (RFC 4515).
// Kept here, not in the LDAP connector, because DN expressions call escapeDNComponent in CEL.

/** Escapes one attribute value for use inside an RDN, e.g. cn=<value>. */
export function escapeDNComponent(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const code = ch.charCodeAt(0);
    if (ch === "\\" || ch === "," || ch === "+" || ch === '"' || ch === "<" || ch === ">" || ch === ";" || ch === "=") {
      out += "\\" + ch;
    } else if (code === 0) {
      out += "\\00";
    } else if ((ch === "#" && i === 0) || (ch === " " && (i === 0 || i === value.length - 1))) {
      out += "\\" + ch;
    } else if (code < 0x20 || code === 0x7f) {
      out += "\\" + code.toString(16).padStart(2, "0");
    } else {
      out += ch;
    }
  }
  return out;
}

/** Escapes a value for use inside an LDAP search filter assertion. */
export function escapeFilterValue(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    const ch = String.fromCharCode(byte);
    if (ch === "*" || ch === "(" || ch === ")" || ch === "\\" || byte === 0 || byte >= 0x80) {
      out += "\\" + byte.toString(16).padStart(2, "0");
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * A DN in a canonical form for comparison: attribute types lower-cased, values unescaped then
 * re-escaped canonically and lower-cased (OpenLDAP compares cn, uid, ou… case-insensitively),
 * spaces around separators dropped, the AVAs of a multi-valued RDN sorted, a #hex (BER) value kept
 * as written in lower case. Not a full schema-aware normalizer, but stable and escape-safe, and
 * lenient: it never throws (the engine normalizes whatever DN a rule or a server produced). It
 * yields the same string as the LDAP connector's normalizeDN for every well-formed DN.
 */
export function normalizeDN(dn: string): string {
  return parseLenient(dn)
    .map((rdn) =>
      rdn
        .map((a) => `${a.type.toLowerCase()}=${(a.ber ? a.value : escapeDNComponent(a.value)).toLowerCase()}`)
        .sort()
        .join("+"),
    )
    .join(",");
}

/** Splits a DN into RDNs, each a list of [type, unescaped value] pairs (a #hex value as written). */
export function splitDN(dn: string): Array<Array<[string, string]>> {
  return parseLenient(dn).map((rdn) => rdn.map((a): [string, string] => [a.type, a.value]));
}

interface LenientAVA {
  type: string;
  value: string;
  /** Written as #<hex> (RFC 4514's BER form): compared as written, never unescaped. */
  ber: boolean;
}

const HEX2 = /^[0-9A-Fa-f]{2}$/;

/**
 * A run of \XX escapes starting at i, decoded as one UTF-8 byte sequence (\c3\a9 is one
 * character), with the index after it; undefined when no \XX escape starts there.
 */
export function hexEscapeRun(dn: string, i: number): { text: string; next: number } | undefined {
  const bytes: number[] = [];
  while (dn[i] === "\\" && HEX2.test(dn.slice(i + 1, i + 3))) {
    bytes.push(parseInt(dn.slice(i + 1, i + 3), 16));
    i += 3;
  }
  return bytes.length > 0 ? { text: Buffer.from(bytes).toString("utf8"), next: i } : undefined;
}
const BER_VALUE = /^#((?:[0-9A-Fa-f]{2})+) *(?=[,;+]|$)/;
const isSeparator = (ch: string) => ch === "," || ch === ";" || ch === "+";

/**
 * RFC 4514 parsing that accepts anything. Only UNESCAPED spaces at either end of a value are
 * insignificant; an escaped space is part of the value however it is spelled (`\ ` or `\20`), which
 * is why `keep` (the value's length up to its last significant character) is advanced by every
 * escape, hex or not, and never by a plain space. Decoding hex escapes straight into the value and
 * trimming afterwards would drop `\20` at either end: slapd writes leading and trailing spaces that
 * way, so such a DN never matched the rule's `\ ` spelling and was renamed on every cycle.
 */
function parseLenient(dn: string): LenientAVA[][] {
  const rdns: LenientAVA[][] = [];
  let rdn: LenientAVA[] = [];
  const n = dn.length;
  if (dn.trim() === "") return rdns;
  let i = 0;
  for (;;) {
    let type = "";
    while (i < n && dn[i] !== "=") type += dn[i++];
    i++; // the "=" (or past the end)
    while (dn[i] === " ") i++; // leading unescaped spaces are not part of the value
    const ber = i < n && dn[i] === "#" ? BER_VALUE.exec(dn.slice(i)) : null;
    let value = "";
    if (ber) {
      value = "#" + ber[1].toLowerCase();
      i += ber[0].length;
    } else {
      let keep = 0;
      while (i < n && !isSeparator(dn[i])) {
        if (dn[i] === "\\" && i + 1 < n) {
          // A run of \XX escapes is one UTF-8 byte sequence (\c3\a9 is one character).
          const hex = hexEscapeRun(dn, i);
          if (hex) {
            value += hex.text;
            i = hex.next;
          } else {
            const cp = String.fromCodePoint(dn.codePointAt(i + 1)!);
            value += cp;
            i += 1 + cp.length;
          }
          keep = value.length;
        } else {
          value += dn[i];
          if (dn[i] !== " ") keep = value.length;
          i++;
        }
      }
      value = value.slice(0, keep);
    }
    rdn.push({ type: type.trim(), value, ber: ber !== null });
    if (i >= n) break;
    if (dn[i++] !== "+") {
      rdns.push(rdn);
      rdn = [];
    }
    if (i >= n) break; // a trailing separator ends the DN
  }
  if (rdn.length > 0) rdns.push(rdn);
  return rdns;
}
