// Shared by the LDAP connector tests: an MA pointing at a harness slapd, and small collectors.
import type { AttributeSpec, ManagementAgent, ObjectTypeSpec } from "../../../src/config/model.ts";
import { createLdapConnector } from "../../../src/connectors/ldap/index.ts";
import type { Connector, ImportChange, ImportedObject, ImportProblem } from "../../../src/connectors/types.ts";
import type { Slapd } from "../../harness/slapd.ts";

export const personType = (attributes: AttributeSpec[], extra: Partial<ObjectTypeSpec> = {}): ObjectTypeSpec => ({
  name: "person",
  anchor: ["entryUUID"],
  objectClasses: ["inetOrgPerson"],
  attributes,
  ...extra,
});

export const groupType = (extra: Partial<ObjectTypeSpec> = {}): ObjectTypeSpec => ({
  name: "group",
  anchor: ["entryUUID"],
  objectClasses: ["groupOfNames"],
  attributes: [{ name: "cn" }, { name: "description" }, { name: "member", type: "reference", multiValued: true, referenceTo: "person" }],
  ...extra,
});

export function ldapMA(slapd: Slapd, objectTypes: ObjectTypeSpec[], ldap: Record<string, unknown> = {}): ManagementAgent {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name: "directory" },
    spec: {
      connector: {
        type: "ldap",
        ldap: {
          url: slapd.url,
          bindDN: slapd.bindDN,
          passwordSecretRef: { name: "ldap-bind", key: "password" },
          baseDN: slapd.suffix,
          // The harness slapd listens on plain ldap:// (loopback); tests of TLS override url or startTLS.
          allowInsecureBind: true,
          ...ldap,
        },
      },
      objectTypes,
    },
  };
}

export function connectorFor(slapd: Slapd, objectTypes: ObjectTypeSpec[], ldap: Record<string, unknown> = {}): Connector {
  return createLdapConnector(ldapMA(slapd, objectTypes, ldap), {
    baseDir: slapd.dir,
    secret: async (name, key) => {
      if (name === "ldap-bind" && key === "password") return slapd.password;
      throw new Error(`no secret ${name}/${key}`);
    },
  });
}

export async function importAll(c: Connector): Promise<{ objects: ImportedObject[]; batches: number[]; problems: ImportProblem[] }> {
  const objects: ImportedObject[] = [];
  const batches: number[] = [];
  const problems: ImportProblem[] = [];
  for await (const b of c.fullImport()) {
    objects.push(...b.items);
    batches.push(b.items.length);
    problems.push(...(b.problems ?? []));
  }
  return { objects, batches, problems };
}

export async function collectChanges(batches: AsyncIterable<{ items: ImportChange[] }>): Promise<ImportChange[]> {
  const out: ImportChange[] = [];
  for await (const b of batches) out.push(...b.items);
  return out;
}

/** LDIF for n simple people uid=<prefix><i>,ou=people. */
export function peopleLdif(suffix: string, n: number, prefix = "u"): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    s += `dn: uid=${prefix}${i},ou=people,${suffix}\nobjectClass: inetOrgPerson\nuid: ${prefix}${i}\ncn: User ${i}\nsn: S${i}\n\n`;
  }
  return s;
}

/** Parses `ldapsearch -LLL` output into entries: attribute (lower-cased) → values (base64 kept as "::"). */
export function parseLdif(text: string): Array<{ dn: string; attrs: Map<string, string[]> }> {
  const out: Array<{ dn: string; attrs: Map<string, string[]> }> = [];
  for (const block of text.split(/\n\n+/)) {
    const lines = block.split("\n").filter((l) => l && !l.startsWith("#"));
    if (lines.length === 0) continue;
    let dn = "";
    const attrs = new Map<string, string[]>();
    for (const line of lines) {
      const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
      if (!m) continue;
      const [, name, sep, value] = m;
      const v = sep === "::" ? Buffer.from(value, "base64").toString("utf8") : value;
      if (name.toLowerCase() === "dn") dn = v;
      else attrs.set(name.toLowerCase(), [...(attrs.get(name.toLowerCase()) ?? []), sep === "::" ? "::" + value : value]);
    }
    out.push({ dn, attrs });
  }
  return out;
}
