// Which attributes hold personal data (RetentionPolicy.spec.personalData.attributes), and hiding
// their values in reports and logs (`--redact` in plan and drift).
import type { ConfigSet } from "../config/model.ts";

export const REDACTED = "[redacted]";

/** Attribute names declared personal by any RetentionPolicy (metaverse names, also used by flows). */
export function personalAttributes(config: ConfigSet | undefined): Set<string> {
  const out = new Set<string>();
  for (const p of config?.retentionPolicies ?? []) for (const a of p.spec.personalData?.attributes ?? []) out.add(a);
  return out;
}

/**
 * A redactor: for an attribute name, the value to show. With no personal attributes declared,
 * redaction hides every value (the safe reading of "--redact" when nothing was declared).
 */
export function redactor(personal: Set<string>, enabled: boolean): (attribute: string, value: unknown) => unknown {
  if (!enabled) return (_a, v) => v;
  return (attribute, value) => (personal.size === 0 || personal.has(attribute) ? (value === null || value === undefined ? value : REDACTED) : value);
}
