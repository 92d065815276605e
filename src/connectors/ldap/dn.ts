// Distinguished names per RFC 4514: parse, format, normalize, compare, parent.
//
// normalizeDN is the form the connector hands out for reference values (manager, member) and the
// form in which the engine should compare DNs: attribute types lower-cased, values unescaped then
// re-escaped canonically (escapeDNComponent) and lower-cased, the AVAs of a multi-valued RDN sorted.
// Lower-casing values is pragmatic, not schema-aware: OpenLDAP compares the usual naming attributes
// (cn, uid, ou, dc, o) case-insensitively, so two DNs differing only in case name the same entry.
// It yields the same string as normalizeDN in src/expr/dn.ts for every well-formed DN.
import { escapeDNComponent, hexEscapeRun } from "../../expr/dn.ts";

/** One attribute-value assertion of an RDN. `value` is unescaped; a "#hex" BER value keeps its form. */
export interface AVA {
  type: string;
  value: string;
  /** The value was written as #<hex> (a BER encoding), kept verbatim. */
  ber?: boolean;
}

export type RDN = AVA[];

export class DNSyntaxError extends Error {
  constructor(message: string, readonly dn: string) {
    super(message);
    this.name = "DNSyntaxError";
  }
}

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/;
const SPECIAL_STOP = new Set([",", "+", ";", "\\"]);

/** Parses a DN ("" is the root: no RDNs). Accepts ";" as a legacy RDN separator. Throws DNSyntaxError. */
export function parseDN(dn: string): RDN[] {
  const rdns: RDN[] = [];
  if (dn.trim() === "") return rdns;
  let i = 0;
  const fail = (what: string): never => {
    throw new DNSyntaxError(`invalid DN ${JSON.stringify(dn)}: ${what} at position ${i}`, dn);
  };
  let rdn: RDN = [];
  for (;;) {
    while (dn[i] === " ") i++;
    const eq = dn.indexOf("=", i);
    if (eq < 0) fail("missing '='");
    const type = dn.slice(i, eq).trim();
    if (!TYPE.test(type)) fail(`bad attribute type ${JSON.stringify(type)}`);
    i = eq + 1;
    while (dn[i] === " ") i++;
    let ava: AVA;
    if (dn[i] === "#") {
      const m = /^#([0-9A-Fa-f]+)/.exec(dn.slice(i));
      if (!m || m[1].length % 2 !== 0) fail("bad #hex value");
      ava = { type, value: "#" + m![1].toLowerCase(), ber: true };
      i += m![0].length;
      while (dn[i] === " ") i++;
      // Whatever follows must be a separator: read as one, "#04zz" would silently start a new RDN.
      if (i < dn.length && dn[i] !== "," && dn[i] !== "+" && dn[i] !== ";") fail("text after a #hex value");
    } else {
      // Plain runs are sliced as strings; escapes are decoded (runs of \XX as UTF-8 bytes).
      // `keep` is the length up to the last character that is not an unescaped space, so trailing
      // unescaped spaces (insignificant) are dropped and escaped ones kept.
      let value = "";
      let keep = 0;
      while (i < dn.length) {
        const ch = dn[i];
        if (ch === "," || ch === "+" || ch === ";") break;
        if (ch !== "\\") {
          let j = i + 1;
          while (j < dn.length && !SPECIAL_STOP.has(dn[j])) j++;
          const run = dn.slice(i, j);
          value += run;
          const trimmed = run.replace(/ +$/, "");
          if (trimmed.length > 0) keep = value.length - (run.length - trimmed.length);
          i = j;
          continue;
        }
        const hex = hexEscapeRun(dn, i);
        if (hex) {
          value += hex.text;
          i = hex.next;
        } else if (i + 1 < dn.length) {
          const cp = String.fromCodePoint(dn.codePointAt(i + 1)!);
          value += cp;
          i += 1 + cp.length;
        } else {
          fail("dangling '\\'");
        }
        keep = value.length;
      }
      ava = { type, value: value.slice(0, keep) };
    }
    rdn.push(ava);
    if (i >= dn.length) break;
    const sep = dn[i++];
    if (sep === "+") continue;
    rdns.push(rdn);
    rdn = [];
    if (i >= dn.length) fail("empty RDN");
  }
  rdns.push(rdn);
  return rdns;
}

export function formatRDN(rdn: RDN): string {
  return rdn.map((a) => `${a.type}=${a.ber ? a.value : escapeDNComponent(a.value)}`).join("+");
}

export function formatDN(rdns: RDN[]): string {
  return rdns.map(formatRDN).join(",");
}

function normalizeRDN(rdn: RDN): string {
  return rdn
    .map((a) => `${a.type.toLowerCase()}=${(a.ber ? a.value : escapeDNComponent(a.value)).toLowerCase()}`)
    .sort()
    .join("+");
}

/** The canonical comparison form (see the file comment). Throws DNSyntaxError for a malformed DN. */
export function normalizeDN(dn: string): string {
  return parseDN(dn).map(normalizeRDN).join(",");
}

export function dnEquals(a: string, b: string): boolean {
  return normalizeDN(a) === normalizeDN(b);
}

/** The parent's DN ("" for a DN of one RDN), in canonical escaping but the original case. */
export function parentDN(dn: string): string {
  return formatDN(parseDN(dn).slice(1));
}

/** The first RDN as a string, in canonical escaping. */
export function firstRDN(dn: string): string {
  const rdns = parseDN(dn);
  if (rdns.length === 0) throw new DNSyntaxError("the root DN has no RDN", dn);
  return formatRDN(rdns[0]);
}

/** True when `dn` is `base` or below it. Both are compared in normalized form. */
export function isWithin(dn: string, base: string): boolean {
  const d = parseDN(dn).map(normalizeRDN);
  const b = parseDN(base).map(normalizeRDN);
  if (b.length > d.length) return false;
  const off = d.length - b.length;
  return b.every((r, k) => r === d[off + k]);
}

/** The normalized DN and those of all its ancestors: [self, parent, …, last RDN]. */
export function normalizedLineage(dn: string): string[] {
  const rdns = parseDN(dn).map(normalizeRDN);
  return rdns.map((_, k) => rdns.slice(k).join(","));
}

/**
 * A DN written so that ldapts can split it into new RDN and new superior: ldapts cuts a modifyDN
 * target at the first "," not preceded by "\", which an RDN value ending in an escaped backslash
 * ("\\,") would fool. Writing backslashes inside the first RDN as \5c removes that case.
 */
export function modifyDNTarget(newDn: string): string {
  const rdns = parseDN(newDn);
  const first = rdns[0].map((a) => `${a.type}=${a.ber ? a.value : escapeDNComponent(a.value).replace(/\\\\/g, "\\5c")}`).join("+");
  return [first, ...rdns.slice(1).map(formatRDN)].join(",");
}
