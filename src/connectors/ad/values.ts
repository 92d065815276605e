// AD's own value forms: objectGUID (the anchor) and objectSid in their string forms, and the
// ACCOUNTDISABLE bit of userAccountControl shown as a boolean `accountEnabled`.
import { EqualityFilter } from "ldapts";
import type { AttributeSpec } from "../../config/model.ts";
import type { ServerAnchor } from "../ldap/settings.ts";
import { guidToBytes, guidToString, isGuidText, sidToString } from "./identifiers.ts";

export const OBJECT_GUID: ServerAnchor = {
  attribute: "objectGUID",
  binary: true,
  read(v) {
    if (!Buffer.isBuffer(v) || v.length !== 16) return undefined;
    return guidToString(v);
  },
  // A Buffer value: ldapts would mangle \xx escapes of bytes >= 0x80 in filter text.
  filter: (anchor) => (isGuidText(anchor) ? new EqualityFilter({ attribute: "objectGUID", value: guidToBytes(anchor) }) : undefined),
};

const BINARY_FORMS: Record<string, (value: Buffer) => string> = {
  objectguid: guidToString,
  objectsid: sidToString,
};

/** Declared attributes AD keeps as bytes but people read as text (objectSid, objectGUID). */
export function decodersFor(attributes: AttributeSpec[]): ReadonlyMap<string, (value: Buffer) => string> {
  const out = new Map<string, (value: Buffer) => string>();
  for (const a of attributes) {
    const decode = BINARY_FORMS[a.name.toLowerCase()];
    if (decode && (a.type === undefined || a.type === "string")) out.set(a.name.toLowerCase(), decode);
  }
  return out;
}

/** userAccountControl flags the connector reads or writes. */
export const UAC = {
  ACCOUNTDISABLE: 0x2,
  PASSWD_NOTREQD: 0x20,
  NORMAL_ACCOUNT: 0x200,
} as const;

export function isEnabled(userAccountControl: number): boolean {
  return (userAccountControl & UAC.ACCOUNTDISABLE) === 0;
}

/** The account control value with ACCOUNTDISABLE set or cleared; every other bit kept. */
export function withEnabled(userAccountControl: number, enabled: boolean): number {
  return enabled ? userAccountControl & ~UAC.ACCOUNTDISABLE : userAccountControl | UAC.ACCOUNTDISABLE;
}

/** A boolean attribute value as a flow produces it (true, "true", "TRUE"); undefined when it is none. */
export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const s = value.trim().toLowerCase();
    if (s === "true") return true;
    if (s === "false") return false;
  }
  return undefined;
}
