// Inbound rule evaluation for one connector-space object: connector filter, scope, join values and
// attribute flow contributions. Pure: the sync feeds it rows and resolves references and joins in sets.
import type { Attributes } from "../expr/index.ts";
import type { CompiledInboundRule, CompiledMA } from "./rules.ts";
import { normalizeValue, valueList } from "./values.ts";

export class ObjectRuleError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // An evaluation error may carry its own code (a cost limit: "expression-cost-exceeded").
    const code = (e as { code?: unknown }).code;
    throw new ObjectRuleError(typeof code === "string" && code.startsWith("expression-") ? code : "expression-error", `${what}: ${(e as Error).message}`);
  }
}

/** True when the MA's connector filter excludes the object (it becomes a filtered disconnector). */
export function isFiltered(ma: CompiledMA, attrs: Attributes): boolean {
  if (!ma.filter) return false;
  return guard(`connector filter of ${ma.name}`, () => ma.filter!.test(attrs));
}

/** Inbound rules of the MA for this object type whose scope holds, in precedence order. */
export function rulesInScope(ma: CompiledMA, objectType: string, attrs: Attributes): CompiledInboundRule[] {
  return ma.inbound.filter(
    (r) => r.sourceType === objectType && (!r.scope || guard(`scope of ${r.name}`, () => r.scope!.test(attrs))),
  );
}

export function hasInboundRules(ma: CompiledMA, objectType: string): boolean {
  return ma.inbound.some((r) => r.sourceType === objectType);
}

export interface JoinKey {
  rule: CompiledInboundRule;
  criterion: number;
  metaverse: string;
  values: string[];
}

/** The join keys an object offers, in the order they are tried (rule precedence, then criterion order). */
export function joinKeys(rules: CompiledInboundRule[], attrs: Attributes): JoinKey[] {
  const keys: JoinKey[] = [];
  for (const rule of rules) {
    rule.join.forEach((j, i) => {
      const values = valueList(guard(`join of ${rule.name}`, () => j.expr.evaluate(attrs)));
      if (values.length > 0) keys.push({ rule, criterion: i, metaverse: j.metaverse, values });
    });
  }
  return keys;
}

export interface PendingReference {
  rule: string;
  attribute: string;
  referenceTo: string;
  anchors: string[];
}

export interface Contributions {
  /** rule name -> attribute -> value; reference attributes still hold anchors (see refs). */
  values: Record<string, Attributes>;
  refs: PendingReference[];
}

/** Evaluates the attribute flows of the rules in scope that flow into the object's MV type. */
export function contributions(rules: CompiledInboundRule[], mvType: string, attrs: Attributes): Contributions {
  const values: Record<string, Attributes> = {};
  const refs: PendingReference[] = [];
  for (const rule of rules) {
    if (rule.mvType !== mvType) continue;
    const out: Attributes = {};
    for (const flow of rule.flows) {
      const v = normalizeValue(guard(`flow ${rule.name} → ${flow.target}`, () => flow.expr.evaluate(attrs)));
      if (v === null) {
        out[flow.target] = null;
        continue;
      }
      if (flow.referenceTo) {
        refs.push({ rule: rule.name, attribute: flow.target, referenceTo: flow.referenceTo, anchors: valueList(v) });
        out[flow.target] = null; // filled in once the anchors are resolved to metaverse ids
      } else {
        out[flow.target] = v;
      }
    }
    values[rule.name] = out;
  }
  return { values, refs };
}

/** Canonical JSON (object keys sorted) for comparing stored values with fresh ones; on a hot path. */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) out += (i ? "," : "") + canonical(v[i]);
    return out + "]";
  }
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    let out = "{";
    let first = true;
    for (const k of keys) {
      if (o[k] === undefined) continue;
      out += (first ? "" : ",") + JSON.stringify(k) + ":" + canonical(o[k]);
      first = false;
    }
    return out + "}";
  }
  return JSON.stringify(v);
}
