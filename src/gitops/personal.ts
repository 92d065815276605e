// Which values a report may show under --redact. The RetentionPolicies name personal attributes in
// metaverse terms (givenName, displayName); a target system may call them otherwise (cn, mail built
// from them). A target attribute is personal when its name is declared personal or when an outbound
// flow into it reads a personal metaverse attribute; a source attribute, when an inbound flow reads it
// into a personal metaverse attribute. A DN is personal when the rule's dn (or deprovisionDN) reads one.
import { ITERATION_VARIABLE, type ConfigSet } from "../config/model.ts";
import { compileExpression } from "../expr/index.ts";
import { personalAttributes, REDACTED, redactor } from "../privacy/redact.ts";

export interface Redaction {
  enabled: boolean;
  /** The value of attribute `attribute` of an object in `ma` (undefined: the metaverse), as shown. */
  value(ma: string | undefined, attribute: string, value: unknown): unknown;
  /** A DN of an object in `ma`, as shown. */
  dn(ma: string, dn: string | undefined): string | undefined;
}

export function redaction(config: ConfigSet | undefined, enabled: boolean): Redaction {
  const personal = personalAttributes(config);
  const byMa = new Map<string, Set<string>>();
  const personalDn = new Set<string>();
  const reads = (text: string, variable: "mv" | "source") => {
    try {
      // An outbound flow with unique: true may read `iteration` beside `mv`.
      return compileExpression(text, { variable, variables: variable === "mv" ? [ITERATION_VARIABLE] : undefined }).reads;
    } catch {
      return []; // an invalid expression is validate's business; here it just reads nothing known
    }
  };
  for (const rule of config?.syncRules ?? []) {
    const s = rule.spec;
    const set = byMa.get(s.managementAgent) ?? new Set<string>();
    byMa.set(s.managementAgent, set);
    for (const f of [...(s.attributeFlows ?? []), ...(s.deprovisionFlows ?? [])]) {
      if (s.direction === "outbound") {
        if (personal.has(f.target) || reads(f.expression, "mv").some((a) => personal.has(a))) set.add(f.target);
      } else if (personal.has(f.target)) {
        for (const a of reads(f.expression, "source")) set.add(a);
      }
    }
    for (const dn of [s.dn, s.deprovisionDN]) {
      if (s.direction === "outbound" && dn && reads(dn, "mv").some((a) => personal.has(a))) personalDn.add(s.managementAgent);
    }
  }
  const forMa = new Map<string | undefined, (a: string, v: unknown) => unknown>();
  const redact = (ma: string | undefined) => {
    let r = forMa.get(ma);
    if (!r) forMa.set(ma, (r = redactor(new Set([...personal, ...(ma ? (byMa.get(ma) ?? []) : [])]), enabled)));
    return r;
  };
  return {
    enabled,
    value: (ma, attribute, value) => redact(ma)(attribute, value),
    // With nothing declared personal, redaction hides everything (privacy/redact.ts): DNs too.
    dn: (ma, dn) => (enabled && dn !== undefined && (personal.size === 0 || personalDn.has(ma)) ? REDACTED : dn),
  };
}
