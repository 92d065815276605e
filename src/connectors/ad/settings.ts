// The Active Directory connector's settings, resolved and checked once when the connector is
// created, so a mistake names the MA and the field before any network traffic. The result is the
// LDAP connector's settings (the protocol is the same) plus what is AD's own.
import type { ActiveDirectoryConnectorSettings, AttributeSpec, ManagementAgent, ObjectTypeSpec } from "../../config/model.ts";
import { isWithin, parseDN } from "../ldap/dn.ts";
import { planType, type LdapSettings, type LdapTypePlan } from "../ldap/settings.ts";
import { OBJECT_GUID, decodersFor } from "./values.ts";

export type DeltaMode = "auto" | "dirsync" | "usn";

export interface AdSettings {
  ldap: LdapSettings;
  /** Subtrees that scope import and hold provisioned objects (baseDN when none are declared). */
  containers: string[];
  deltaMode: DeltaMode;
  mustChangePassword: boolean;
}

/** What an AD object type needs beyond an LDAP one. */
export interface AdTypePlan extends LdapTypePlan {
  /** The type creates user accounts: initial password, userAccountControl, pwdLastSet. */
  isUser: boolean;
  /** `accountEnabled` is declared: the ACCOUNTDISABLE bit of userAccountControl, as a boolean. */
  accountEnabled?: AttributeSpec;
  /** userAccountControl was declared by the MA (else it is read for accountEnabled only). */
  declaresUserAccountControl: boolean;
  /** Containers (groups' members, OUs) are deleted with the Tree Delete control. */
  treeDelete: boolean;
}

const DEFAULT_CLASSES: Record<string, string[]> = {
  user: ["top", "person", "organizationalPerson", "user"],
  group: ["top", "group"],
  contact: ["top", "person", "organizationalPerson", "contact"],
  organizationalunit: ["top", "organizationalUnit"],
};

// A computer is a user too (objectClass user): a "user" type must not import the domain's machines.
const DEFAULT_FILTERS: Record<string, string> = { user: "(!(objectClass=computer))" };

// AD's paged searches stop at MaxPageSize (1000 by default): a larger page is cut by the server.
const DEFAULT_PAGE_SIZE = 1000;
const DEFAULT_TIMEOUT_SECONDS = 120;

function configError(ma: string, field: string, message: string): Error {
  return new Error(`ManagementAgent ${ma}: spec.connector.activeDirectory${field ? "." + field : ""}: ${message}`);
}

const UPN = /^[^\s@\\/,=]+@[A-Za-z0-9.-]+$/;
const DOWN_LEVEL = /^[A-Za-z0-9.-]+\\[^\s\\/]+$/;

export function resolveAdSettings(ma: ManagementAgent): { settings: AdSettings; types: AdTypePlan[] } {
  const name = ma.metadata.name;
  const raw = ma.spec.connector.activeDirectory as ActiveDirectoryConnectorSettings | undefined;
  if (!raw) throw configError(name, "", "missing (spec.connector.type is activeDirectory)");
  if (typeof raw.url !== "string" || !/^ldaps?:\/\/[^/]+\/?$/i.test(raw.url)) {
    throw configError(name, "url", `must be ldaps://host[:port], or ldap://host[:port] with startTLS: true; got ${JSON.stringify(raw.url)}`);
  }
  const ldaps = /^ldaps:/i.test(raw.url);
  if (raw.startTLS && ldaps) throw configError(name, "startTLS", "cannot be used with an ldaps:// url");
  // Never a plain bind: the bind password, and every initial password written to unicodePwd, would
  // cross the network readable (AD itself refuses unicodePwd writes without encryption).
  if (!ldaps && raw.startTLS !== true) {
    throw configError(name, "url", `${raw.url} is plain LDAP: the bind password and user passwords would be sent unencrypted. Use ldaps://host:636, or set startTLS: true`);
  }
  if (typeof raw.bindDN !== "string" || raw.bindDN.trim() === "") throw configError(name, "bindDN", "is required (a DN or a user@realm UPN)");
  if (!UPN.test(raw.bindDN) && !DOWN_LEVEL.test(raw.bindDN)) {
    try {
      parseDN(raw.bindDN);
    } catch (err) {
      throw configError(name, "bindDN", `is neither a DN, a user@realm UPN nor DOMAIN\\user: ${(err as Error).message}`);
    }
  }
  if (!raw.passwordSecretRef?.name || !raw.passwordSecretRef?.key) throw configError(name, "passwordSecretRef", "is required ({name, key} of the bind password)");
  if (typeof raw.baseDN !== "string" || raw.baseDN.trim() === "") throw configError(name, "baseDN", "is required (the domain's naming context)");
  try {
    parseDN(raw.baseDN);
  } catch (err) {
    throw configError(name, "baseDN", (err as Error).message);
  }
  const containers = raw.containers && raw.containers.length > 0 ? raw.containers : [raw.baseDN];
  containers.forEach((c, i) => {
    try {
      parseDN(c);
    } catch (err) {
      throw configError(name, `containers[${i}]`, (err as Error).message);
    }
    if (!isWithin(c, raw.baseDN)) throw configError(name, `containers[${i}]`, `${c} is not under baseDN ${raw.baseDN}`);
  });
  const pageSize = raw.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw configError(name, "pageSize", "must be a positive integer");
  const timeout = raw.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!(timeout > 0)) throw configError(name, "timeoutSeconds", "must be positive");
  const deltaMode = raw.deltaMode ?? "auto";
  if (!["auto", "dirsync", "usn"].includes(deltaMode)) throw configError(name, "deltaMode", `must be auto, dirsync or usn, got ${JSON.stringify(deltaMode)}`);
  const ldap: LdapSettings = {
    ma: name,
    connectorField: "activeDirectory",
    url: raw.url.replace(/\/$/, ""),
    startTLS: raw.startTLS === true,
    allowInsecureBind: false,
    bindDN: raw.bindDN,
    passwordSecretRef: raw.passwordSecretRef,
    baseDN: raw.baseDN,
    caFile: raw.caFile,
    insecureSkipVerify: raw.insecureSkipVerify === true,
    pageSize,
    timeoutMs: Math.round(timeout * 1000),
    // AD has no Post-Read control: the anchor is read back with a search when wanted.
    readAnchorAfterAdd: raw.readAnchorAfterAdd !== false,
    postRead: false,
  };
  const types = ma.spec.objectTypes.map((t, i) => planAdType(name, t, i));
  return { settings: { ldap, containers, deltaMode: deltaMode as DeltaMode, mustChangePassword: raw.mustChangePassword !== false }, types };
}

function planAdType(ma: string, declared: ObjectTypeSpec, index: number): AdTypePlan {
  const key = declared.name.toLowerCase();
  const objectClasses = declared.objectClasses && declared.objectClasses.length > 0 ? declared.objectClasses : DEFAULT_CLASSES[key];
  if (!objectClasses) {
    throw new Error(
      `ManagementAgent ${ma}: spec.objectTypes[${index}] (${declared.name}).objectClasses: required for an object type other than user, group, contact or organizationalUnit`,
    );
  }
  const searchFilter = declared.searchFilter ?? DEFAULT_FILTERS[key];
  const accountEnabled = declared.attributes.find((a) => a.name.toLowerCase() === "accountenabled");
  const declaresUserAccountControl = declared.attributes.some((a) => a.name.toLowerCase() === "useraccountcontrol");
  // accountEnabled is no AD attribute: it is read from and written to userAccountControl.
  const attributes = declared.attributes.filter((a) => a !== accountEnabled);
  if (accountEnabled && !declaresUserAccountControl) attributes.push({ name: "userAccountControl", type: "integer" });
  const spec: ObjectTypeSpec = { ...declared, objectClasses, searchFilter, attributes };
  const anchored = declared.anchor.length === 0 || (declared.anchor.length === 1 && declared.anchor[0].toLowerCase() === "objectguid");
  const plan = planType(ma, spec, index, anchored ? OBJECT_GUID : undefined, decodersFor(attributes));
  const classes = objectClasses.map((c) => c.toLowerCase());
  return {
    ...plan,
    // objectGUID (the anchor) is requested with it; OpenLDAP's entryCSN and the like mean nothing here.
    operational: [],
    isUser: classes.includes("user") && !classes.includes("computer"),
    accountEnabled,
    declaresUserAccountControl,
    treeDelete: classes.includes("organizationalunit") || classes.includes("container"),
  };
}
