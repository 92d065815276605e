// Search filters (RFC 4515). Every value that comes from data goes through escapeFilterValue, so no
// value can change a filter's meaning ("*)(uid=*" stays one literal assertion value).
import { FilterParser, type Filter } from "ldapts";
import { escapeFilterValue } from "../../expr/dn.ts";

/** (attr=value) with the value escaped. */
export function equalityFilter(attribute: string, value: string): string {
  return `(${attribute}=${escapeFilterValue(value)})`;
}

/** (attr>=value) with the value escaped. */
export function greaterOrEqualFilter(attribute: string, value: string): string {
  return `(${attribute}>=${escapeFilterValue(value)})`;
}

export function andFilter(...filters: string[]): string {
  const parts = filters.filter((f) => f !== "");
  return parts.length === 1 ? parts[0] : `(&${parts.join("")})`;
}

export function orFilter(filters: string[]): string {
  return filters.length === 1 ? filters[0] : `(|${filters.join("")})`;
}

/**
 * Parses a filter string for ldapts. ldapts decodes each \XX escape into a separate UTF-16 code
 * unit, which mangles a non-ASCII character escaped as UTF-8 bytes (escapeFilterValue writes "Å" as
 * \c3\85). So runs of escaped bytes >= 0x80 that form valid UTF-8 are turned back into characters
 * first; escapes below 0x80 ("*", "(", ")", "\", NUL) stay escaped and keep their protection.
 */
export function parseFilter(filter: string): Filter {
  return FilterParser.parseString(decodeHighByteEscapes(filter));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeHighByteEscapes(filter: string): string {
  let out = "";
  let i = 0;
  while (i < filter.length) {
    if (filter[i] !== "\\") {
      out += filter[i++];
      continue;
    }
    // Collect a run of \XX escapes whose byte is >= 0x80.
    const bytes: number[] = [];
    let j = i;
    while (filter[j] === "\\" && /^[89a-fA-F][0-9a-fA-F]$/.test(filter.slice(j + 1, j + 3))) {
      bytes.push(parseInt(filter.slice(j + 1, j + 3), 16));
      j += 3;
    }
    if (bytes.length === 0) {
      out += filter.slice(i, i + 3); // an ordinary escape, kept as written
      i += 3;
      continue;
    }
    try {
      out += utf8.decode(Uint8Array.from(bytes));
    } catch {
      out += filter.slice(i, j); // not UTF-8 (binary assertion): leave as is
    }
    i = j;
  }
  return out;
}
