// The LDAP connector's settings, resolved and checked once when the connector is created, so a
// mistake names the MA and the field before any network traffic.
import { EqualityFilter, FilterParser, type Filter } from "ldapts";
import type { AttributeSpec, LdapConnectorSettings, ManagementAgent, ObjectTypeSpec, SecretKeyRef } from "../../config/model.ts";
import { escapeFilterValue } from "../../expr/dn.ts";
import { parseDN } from "./dn.ts";

/** Fields this connector reads beyond model.ts's LdapConnectorSettings. */
export interface LdapConnectorSettingsExtra {
  /**
   * The suffix of OpenLDAP's accesslog database (e.g. "cn=accesslog"). When set, a delta import
   * reads deletions from it; when not, deletions are only seen by the next full import.
   */
  accesslogBase?: string;
  /**
   * Default true: an add returns the new entry's anchor (entryUUID), read with the Post-Read
   * control in the add's own answer. false skips it (about a fifth faster on OpenLDAP): the engine
   * then learns the anchor from the import that confirms the add, carrying the object by its DN.
   */
  readAnchorAfterAdd?: boolean;
}

/**
 * An anchor the server assigns and keeps across renames (OpenLDAP's entryUUID, AD's objectGUID):
 * how it is read from an entry and how an entry is found by it.
 */
export interface ServerAnchor {
  attribute: string;
  /** Binary on the wire (objectGUID): ldapts must hand it back as a Buffer. */
  binary: boolean;
  /** The anchor string of a wire value; undefined when the value is not one. */
  read(value: string | Buffer): string | undefined;
  /** An equality filter for an anchor string (a Filter object: binary values cannot pass through filter text). */
  filter(anchor: string): Filter | undefined;
}

export const ENTRY_UUID: ServerAnchor = {
  attribute: "entryUUID",
  binary: false,
  read: (v) => (Buffer.isBuffer(v) ? v.toString("utf8") : v),
  filter: (anchor) => new EqualityFilter({ attribute: "entryUUID", value: anchor }),
};

export interface LdapSettings {
  ma: string;
  /** The connector block the settings came from, for messages (ldap, activeDirectory). */
  connectorField: string;
  url: string;
  startTLS: boolean;
  allowInsecureBind: boolean;
  bindDN?: string;
  passwordSecretRef?: SecretKeyRef;
  baseDN: string;
  caFile?: string;
  insecureSkipVerify: boolean;
  pageSize: number;
  timeoutMs: number;
  accesslogBase?: string;
  readAnchorAfterAdd: boolean;
  /** The server supports the Post-Read control (RFC 4527); without it an anchor is read back with a search. */
  postRead: boolean;
}

/** One declared object type, ready to search and write. */
export interface LdapTypePlan {
  spec: ObjectTypeSpec;
  name: string;
  objectClasses: string[];
  /** The complete search filter: objectClasses ANDed with the type's searchFilter. */
  filter: string;
  /** The server-assigned anchor (entryUUID by default); undefined when declared attributes make the anchor. */
  serverAnchor?: ServerAnchor;
  /** Declared attributes, plus anchor attributes that were not declared (as single strings). */
  attributes: AttributeSpec[];
  /** Operational attributes requested besides the anchor (default: entryUUID, entryCSN, modifyTimestamp). */
  operational?: string[];
  /** Binary attributes shown in a string form of their own (AD's objectSid), by lower-case name. */
  decoders?: ReadonlyMap<string, (value: Buffer) => string>;
}

const DEFAULT_PAGE_SIZE = 500;
// Writes of 10k-value member lists take seconds on a busy server; two minutes leaves room.
const DEFAULT_TIMEOUT_SECONDS = 120;

function configError(ma: string, field: string, message: string): Error {
  return new Error(`ManagementAgent ${ma}: spec.connector.ldap${field ? "." + field : ""}: ${message}`);
}

export function resolveSettings(ma: ManagementAgent): { settings: LdapSettings; types: LdapTypePlan[] } {
  const name = ma.metadata.name;
  const raw = ma.spec.connector.ldap as (LdapConnectorSettings & LdapConnectorSettingsExtra) | undefined;
  if (!raw) throw configError(name, "", "missing (spec.connector.type is ldap)");
  if (typeof raw.url !== "string" || !/^ldaps?:\/\/[^/]+\/?$/i.test(raw.url)) {
    throw configError(name, "url", `must be ldap://host[:port] or ldaps://host[:port], got ${JSON.stringify(raw.url)}`);
  }
  if (raw.startTLS && /^ldaps:/i.test(raw.url)) throw configError(name, "startTLS", "cannot be used with an ldaps:// url");
  const checkDN = (field: string, dn: string | undefined) => {
    if (dn === undefined) return;
    try {
      parseDN(dn);
    } catch (err) {
      throw configError(name, field, (err as Error).message);
    }
  };
  if (typeof raw.baseDN !== "string" || raw.baseDN.trim() === "") throw configError(name, "baseDN", "is required");
  checkDN("baseDN", raw.baseDN);
  checkDN("bindDN", raw.bindDN);
  checkDN("accesslogBase", raw.accesslogBase);
  if (raw.bindDN && !raw.passwordSecretRef) throw configError(name, "passwordSecretRef", "is required with bindDN");
  // A simple bind sends the password as it is: over plain ldap:// to whatever host `url` names (an
  // MA's author may point it at a listener of their own). Refused here, before the connector opens
  // a connection or reads the Secret, unless the MA says it accepts that.
  if (raw.bindDN && /^ldap:/i.test(raw.url) && raw.startTLS !== true && raw.allowInsecureBind !== true) {
    throw configError(
      name,
      "allowInsecureBind",
      `binding as ${raw.bindDN} would send the password unencrypted to ${raw.url}: use ldaps://, or startTLS: true, or set allowInsecureBind: true to accept that`,
    );
  }
  const pageSize = raw.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw configError(name, "pageSize", "must be a positive integer");
  const timeout = raw.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!(timeout > 0)) throw configError(name, "timeoutSeconds", "must be positive");
  const settings: LdapSettings = {
    ma: name,
    url: raw.url.replace(/\/$/, ""),
    startTLS: raw.startTLS === true,
    allowInsecureBind: raw.allowInsecureBind === true,
    bindDN: raw.bindDN,
    passwordSecretRef: raw.passwordSecretRef,
    baseDN: raw.baseDN,
    caFile: raw.tls?.caFile,
    insecureSkipVerify: raw.tls?.insecureSkipVerify === true,
    pageSize,
    timeoutMs: Math.round(timeout * 1000),
    accesslogBase: raw.accesslogBase,
    readAnchorAfterAdd: raw.readAnchorAfterAdd !== false,
    postRead: true,
    connectorField: "ldap",
  };
  const types = ma.spec.objectTypes.map((t, i) => {
    const byUUID = t.anchor.length === 0 || (t.anchor.length === 1 && t.anchor[0].toLowerCase() === "entryuuid");
    return planType(name, t, i, byUUID ? ENTRY_UUID : undefined);
  });
  return { settings, types };
}

/** An object type's search filter and attributes; `serverAnchor` when the server assigns the anchor. */
export function planType(
  ma: string,
  spec: ObjectTypeSpec,
  index: number,
  serverAnchor: ServerAnchor | undefined,
  decoders?: ReadonlyMap<string, (value: Buffer) => string>,
): LdapTypePlan {
  const where = `spec.objectTypes[${index}] (${spec.name})`;
  const objectClasses = spec.objectClasses ?? [];
  const parts = objectClasses.map((oc) => `(objectClass=${escapeFilterValue(oc)})`);
  if (spec.searchFilter && spec.searchFilter.trim() !== "") {
    const f = spec.searchFilter.trim();
    const wrapped = f.startsWith("(") ? f : `(${f})`;
    try {
      FilterParser.parseString(wrapped);
    } catch (err) {
      throw new Error(`ManagementAgent ${ma}: ${where}.searchFilter: not a valid LDAP filter: ${(err as Error).message}`);
    }
    parts.push(wrapped);
  }
  const filter = parts.length === 0 ? "(objectClass=*)" : parts.length === 1 ? parts[0] : `(&${parts.join("")})`;
  const attributes = [...spec.attributes];
  const declared = new Set(attributes.map((a) => a.name.toLowerCase()));
  if (!serverAnchor) {
    for (const a of spec.anchor) if (!declared.has(a.toLowerCase())) attributes.push({ name: a });
  }
  return { spec, name: spec.name, objectClasses, filter, serverAnchor, attributes, decoders };
}
