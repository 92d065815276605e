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
