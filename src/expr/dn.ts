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
 * spaces around separators dropped. Not a full schema-aware normalizer, but stable and escape-safe.
 */
export function normalizeDN(dn: string): string {
  return splitDN(dn)
    .map((rdn) =>
      rdn
        .map(([type, value]) => `${type.trim().toLowerCase()}=${escapeDNComponent(value).toLowerCase()}`)
        .sort()
        .join("+"),
    )
    .join(",");
}

/** Splits a DN into RDNs, each a list of [type, unescaped value] pairs. */
export function splitDN(dn: string): Array<Array<[string, string]>> {
  const rdns: Array<Array<[string, string]>> = [];
  let rdn: Array<[string, string]> = [];
  let type = "";
  let value = "";
  let inValue = false;
  let hexRun: number[] = [];
  const flushHex = () => {
    if (hexRun.length > 0) value += Buffer.from(hexRun).toString("utf8");
    hexRun = [];
  };
  const endPair = () => {
    flushHex();
    rdn.push([type.trim(), trimUnescaped(value)]);
    type = "";
    value = "";
    inValue = false;
  };
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i];
    if (!inValue) {
      if (ch === "=") inValue = true;
      else type += ch;
      continue;
    }
    if (ch === "\\" && i + 1 < dn.length) {
      const pair = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(pair)) {
        hexRun.push(parseInt(pair, 16));
        i += 2;
      } else {
        flushHex();
        value += "\u0000" + dn[i + 1]; // marks an escaped char so trimming keeps escaped spaces
        i += 1;
      }
      continue;
    }
    flushHex();
    if (ch === "," || ch === ";") {
      endPair();
      rdns.push(rdn);
      rdn = [];
    } else if (ch === "+") {
      endPair();
    } else {
      value += ch;
    }
  }
  if (inValue || type.trim() !== "") {
    endPair();
    rdns.push(rdn);
  }
  return rdns;
}

function trimUnescaped(v: string): string {
  // Leading/trailing unescaped spaces are not part of the value; escaped ones (\u0000 + " ") are.
  let s = v.replace(/^ +/, "");
  while (s.endsWith(" ") && !s.endsWith("\u0000 ")) s = s.slice(0, -1);
  return s.replace(/\u0000(.)/g, "$1");
}
