// Outbound rule evaluation, pure: which rules hold an MV object in scope, the values and DN they
// compute for the target object, and the difference from what the target holds (or will hold once
// an unconfirmed export lands). Reference values come out as metaverse ids and are mapped to the
// referenced object's anchor or DN in the target MA by the caller.
import type { AttrValue, Attributes, CompiledExpression } from "../expr/index.ts";
import { normalizeDN } from "../expr/dn.ts";
import type { CsRow, PendingExportRow } from "../store/index.ts";
import { ObjectRuleError } from "./inbound.ts";
import { ITERATION, type CompiledOutboundFlow, type CompiledOutboundRule } from "./rules.ts";
import { dnValuesEqual, normalizeValue, valueList, valuesEqual } from "./values.ts";

export interface OutboundGroup {
  ma: string;
  targetType: string;
  /** Precedence order: for an attribute flowed by several rules in scope, the first one wins. */
  rules: CompiledOutboundRule[];
  referenceBy: "anchor" | "dn";
}

export function groupOutboundRules(rules: CompiledOutboundRule[], referenceBy: (ma: string) => "anchor" | "dn"): OutboundGroup[] {
  const groups = new Map<string, OutboundGroup>();
  for (const r of rules) {
    const key = `${r.ma}\u0000${r.targetType}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ma: r.ma, targetType: r.targetType, rules: [], referenceBy: referenceBy(r.ma) }));
    g.rules.push(r);
  }
  for (const g of groups.values()) g.rules.sort((a, b) => a.precedence - b.precedence || a.name.localeCompare(b.name));
  return [...groups.values()];
}

export function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // An evaluation error may carry its own code (a cost limit: "expression-cost-exceeded").
    const code = (e as { code?: unknown }).code;
    throw new ObjectRuleError(typeof code === "string" && code.startsWith("expression-") ? code : "expression-error", `${what}: ${(e as Error).message}`);
  }
}

export function outboundRulesInScope(group: OutboundGroup, mvType: string, attrs: Attributes, deleted: boolean): CompiledOutboundRule[] {
  if (deleted) return [];
  return group.rules.filter((r) => r.mvType === mvType && (!r.scope || guard(`scope of ${r.name}`, () => r.scope!.test(attrs))));
}

export interface TargetValues {
  values: Attributes;
  /** attribute -> referenced metaverse ids, still to be mapped to anchors/DNs. */
  refs: Map<string, { referenceTo: string; mvIds: number[] }>;
  /** Attributes flowed on every sync (not initialOnly): the ones a diff may change. */
  managed: Set<string>;
  dn?: string;
  /**
   * Attributes flowed with unique: true, by the flow that won: their value here is iteration 1's,
   * until unique.ts replaces it with the one no other object holds.
   */
  unique: Map<string, { rule: CompiledOutboundRule; flow: CompiledOutboundFlow }>;
}

const FIRST_ITERATION = { [ITERATION]: 1 };

export function computeTargetValues(
  rules: CompiledOutboundRule[],
  attrs: Attributes,
  opts: {
    initial: boolean;
    flows?: (r: CompiledOutboundRule) => CompiledOutboundFlow[];
    /** The DN expression of a rule; default its `dn` (deprovisioning asks for `deprovisionDN`). */
    dn?: (r: CompiledOutboundRule) => CompiledExpression | undefined;
  },
): TargetValues {
  const values: Attributes = {};
  const refs = new Map<string, { referenceTo: string; mvIds: number[] }>();
  const managed = new Set<string>();
  const unique = new Map<string, { rule: CompiledOutboundRule; flow: CompiledOutboundFlow }>();
  const seen = new Set<string>();
  let dn: string | undefined;
  for (const rule of rules) {
    const dnExpr = opts.dn ? opts.dn(rule) : rule.dn;
    if (dn === undefined && dnExpr) {
      const v = guard(`${dnExpr === rule.dn ? "dn" : "deprovisionDN"} of ${rule.name}`, () => dnExpr.evaluate(attrs));
      if (v !== null) dn = String(v);
    }
    for (const flow of opts.flows ? opts.flows(rule) : rule.flows) {
      if (seen.has(flow.target)) continue;
      if (flow.initialOnly && !opts.initial) continue;
      seen.add(flow.target);
      if (!flow.initialOnly) managed.add(flow.target);
      if (flow.unique) unique.set(flow.target, { rule, flow });
      const v = normalizeValue(guard(`flow ${rule.name} → ${flow.target}`, () => flow.expr.evaluate(attrs, flow.unique ? FIRST_ITERATION : undefined)));
      if (flow.referenceTo && v !== null) {
        refs.set(flow.target, { referenceTo: flow.referenceTo, mvIds: valueList(v).map(Number).filter(Number.isFinite) });
        values[flow.target] = null;
      } else {
        values[flow.target] = v;
      }
    }
  }
  return { values, refs, managed, dn, unique };
}

/** Replaces reference mv ids with the referenced objects' anchors/DNs; returns the ids not yet there. */
export function resolveOutboundReferences(
  t: TargetValues,
  lookup: (referenceTo: string, mvId: number) => string | undefined,
): number[] {
  const missing: number[] = [];
  for (const [attr, ref] of t.refs) {
    const out: string[] = [];
    for (const id of ref.mvIds) {
      const v = lookup(ref.referenceTo, id);
      if (v === undefined) missing.push(id);
      else out.push(v);
    }
    t.values[attr] = out.length === 0 ? null : ref.mvIds.length > 1 || out.length > 1 ? out.sort() : out[0];
  }
  return missing;
}

export interface TargetDiff {
  changes: Attributes;
  newDn?: string;
}

/**
 * What must change in the target: managed attributes whose value differs from the expected state.
 * With referenceBy "dn", reference values are compared as DNs (the target reads them back normalized).
 */
export function diffTarget(t: TargetValues, expected: Attributes, currentDn: string | null, referenceBy: "anchor" | "dn" = "anchor"): TargetDiff {
  const changes: Attributes = {};
  for (const attr of t.managed) {
    const want: AttrValue = t.values[attr] ?? null;
    const same = referenceBy === "dn" && t.refs.has(attr) ? dnValuesEqual : valuesEqual;
    if (!same(want, expected[attr])) changes[attr] = want;
  }
  const newDn = t.dn && currentDn && normalizeDN(t.dn) !== normalizeDN(currentDn) ? t.dn : undefined;
  return { changes, newDn };
}

export function isEmptyDiff(d: TargetDiff): boolean {
  return Object.keys(d.changes).length === 0 && !d.newDn;
}

/** Values without nulls, for an add. */
export function addPayload(values: Attributes): Attributes {
  const out: Attributes = {};
  for (const k of Object.keys(values).sort()) if (normalizeValue(values[k]) !== null) out[k] = values[k];
  return out;
}

/** What the target holds or will hold: imported values, overlaid with an export not yet confirmed. */
export function expectedState(c: CsRow, pe: PendingExportRow | undefined): Attributes {
  if (pe && pe.state === "unconfirmed" && pe.op !== "delete") return { ...c.attrs, ...pe.changes };
  return c.attrs;
}

/** The DN the target object has, or has once an exported rename not yet confirmed lands. */
export function expectedDn(c: CsRow, pe: PendingExportRow | undefined): string | null {
  return pe?.state === "unconfirmed" && pe.new_dn ? pe.new_dn : c.dn;
}
