// What the connector needs from the server's schema (the subschema entry, RFC 4512):
// - attribute aliases: OpenLDAP returns an attribute under its first NAME ("sn" for a request of
//   "surname"), so a declared name is matched to the server's through the alias table;
// - which attributes must travel with the ";binary" option (certificate syntaxes): OpenLDAP
//   refuses "userCertificate" without it.
// Read once per connector. When the subschema cannot be read, names match case-insensitively only
// and a small built-in list names the ;binary attributes.
import { ResultCodeError, type Client, type Entry } from "ldapts";

export interface DirectorySchema {
  /** A key shared by every name and the OID of one attribute type: the lower-cased primary name. */
  key(name: string): string;
  /** The server's spelling of the attribute (its first NAME); the name itself when unknown. */
  serverName(name: string): string;
  /** The attribute must be requested and written as "<name>;binary". */
  binaryTransfer(name: string): boolean;
}

const KNOWN_BINARY_TRANSFER = new Set([
  "usercertificate",
  "cacertificate",
  "authorityrevocationlist",
  "certificaterevocationlist",
  "deltarevocationlist",
  "crosscertificatepair",
  "supportedalgorithms",
]);

export const FALLBACK_SCHEMA: DirectorySchema = {
  key: (name) => name.toLowerCase(),
  serverName: (name) => name,
  binaryTransfer: (name) => KNOWN_BINARY_TRANSFER.has(name.toLowerCase()),
};

interface AttributeTypeDef {
  oid: string;
  names: string[];
  sup?: string;
  syntax?: string;
}

// DESC and other quoted strings may contain any word; remove them before looking for keywords.
const stripDesc = (def: string) => def.replace(/\bDESC\s+'(?:[^'\\]|\\.)*'/g, "");

export function parseAttributeType(def: string): AttributeTypeDef | undefined {
  const d = stripDesc(def);
  const oid = /^\(\s*([^\s)]+)/.exec(d)?.[1];
  if (!oid) return undefined;
  const nm = /\bNAME\s+(?:'([^']+)'|\(\s*((?:'[^']+'\s*)+)\))/.exec(d);
  const names = nm ? (nm[1] ? [nm[1]] : [...nm[2].matchAll(/'([^']+)'/g)].map((m) => m[1])) : [];
  const sup = /\bSUP\s+([^\s)]+)/.exec(d)?.[1];
  const syntax = /\bSYNTAX\s+([0-9.]+)/.exec(d)?.[1];
  return { oid, names, sup, syntax };
}

export function buildSchema(attributeTypes: string[], ldapSyntaxes: string[]): DirectorySchema {
  const binarySyntaxes = new Set<string>();
  for (const s of ldapSyntaxes) {
    const oid = /^\(\s*([0-9.]+)/.exec(s)?.[1];
    if (oid && /X-BINARY-TRANSFER-REQUIRED\s+'TRUE'/i.test(s)) binarySyntaxes.add(oid);
  }
  const byName = new Map<string, AttributeTypeDef>();
  for (const def of attributeTypes) {
    const at = parseAttributeType(def);
    if (!at) continue;
    byName.set(at.oid.toLowerCase(), at);
    for (const n of at.names) byName.set(n.toLowerCase(), at);
  }
  const syntaxOf = (at: AttributeTypeDef | undefined, depth = 0): string | undefined => {
    if (!at || depth > 20) return undefined;
    return at.syntax ?? (at.sup ? syntaxOf(byName.get(at.sup.toLowerCase()), depth + 1) : undefined);
  };
  return {
    key(name) {
      const at = byName.get(name.toLowerCase());
      return (at ? (at.names[0] ?? at.oid) : name).toLowerCase();
    },
    serverName(name) {
      const at = byName.get(name.toLowerCase());
      return at ? (at.names[0] ?? at.oid) : name;
    },
    binaryTransfer(name) {
      const at = byName.get(name.toLowerCase());
      if (!at) return KNOWN_BINARY_TRANSFER.has(name.toLowerCase());
      const syntax = syntaxOf(at);
      return syntax !== undefined && binarySyntaxes.has(syntax);
    },
  };
}

/** The values of an attribute of an entry, its name matched case-insensitively. */
function asStrings(entry: Entry | undefined, name: string): string[] {
  const key = Object.keys(entry ?? {}).find((k) => k.toLowerCase() === name.toLowerCase());
  const v = key ? entry![key] : undefined;
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString("utf8") : String(x)));
}

/** Reads the subschema entry named by the root DSE (usually cn=Subschema); the fallback on failure. */
export async function readSchema(client: Client): Promise<DirectorySchema> {
  try {
    const root = await client.search("", { scope: "base", filter: "(objectClass=*)", attributes: ["subschemaSubentry"] });
    const entry = root.searchEntries[0];
    const dn = asStrings(entry, "subschemaSubentry")[0] ?? "cn=Subschema";
    const res = await client.search(dn, {
      scope: "base",
      filter: "(objectClass=subschema)",
      attributes: ["attributeTypes", "ldapSyntaxes"],
    });
    const sub = res.searchEntries[0];
    if (!sub) return FALLBACK_SCHEMA;
    const types = asStrings(sub, "attributeTypes");
    if (types.length === 0) return FALLBACK_SCHEMA;
    return buildSchema(types, asStrings(sub, "ldapSyntaxes"));
  } catch (err) {
    // A lost connection is the caller's business; a refused read just means no alias table.
    if (!(err instanceof ResultCodeError)) throw err;
    return FALLBACK_SCHEMA;
  }
}
