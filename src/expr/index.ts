// CEL expressions over identity objects.
//
// Semantics chosen for identity data (DESIGN.md): an object is a map of attribute name → value; an
// absent attribute is simply not in the map. An expression that reads an absent attribute yields no
// value (null) instead of failing, so `source.givenName + " " + source.sn` with no sn flows nothing,
// exactly as a MIM flow with a missing source attribute does. `has(source.sn)` tests presence.
// Attribute names are checked against the declared schema at compile time, so a typo is a config
// error, not a silent null at run time.
import { celEnv, isCelError, isCelList, isCelMap, parse, plan, type CelValue } from "@bufbuild/cel";
import { guardedFuncs, limitExceeded, resetLimits, WORK_LIMIT } from "./limits.ts";
import {
  ASSUMED_MAX_LENGTH,
  ASSUMED_MAX_VALUES,
  assumedModel,
  estimateCost,
  formatCost,
  hasComprehension,
  RUNTIME_COST_BUDGET,
  shapeOf,
  VALIDATE_COST_BUDGET,
  type CostModel,
  type Shape,
} from "./cost.ts";

export { escapeDNComponent } from "./dn.ts";
export { ASSUMED_MAX_VALUES, ASSUMED_MAX_LENGTH, RUNTIME_COST_BUDGET, VALIDATE_COST_BUDGET } from "./cost.ts";

/** An attribute value as the engine stores it. Binary values are base64 strings. */
export type AttrValue = string | number | boolean | string[] | null;
export type Attributes = Record<string, AttrValue>;

export type ExpressionVariable = "source" | "mv" | "object";

export interface ExpressionScope {
  variable: ExpressionVariable;
  /** Attribute names the variable may read; undefined means any name (schema not known). */
  attributes?: ReadonlySet<string>;
  /**
   * Further variables the expression may read, bound at evaluation (`iteration` in an outbound
   * flow with unique: true). Integers; absent from the scope, a name is an unknown variable.
   */
  variables?: readonly string[];
}

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly expression: string,
    readonly column?: number,
  ) {
    super(message);
    this.name = "ExpressionError";
  }
}

/** Raised at evaluation time for a real failure (type mismatch, bad function argument). */
export class EvaluationError extends Error {
  constructor(message: string, readonly expression: string) {
    super(message);
    this.name = "EvaluationError";
  }
}

/**
 * Raised instead of evaluating (or while evaluating) an expression too expensive for the object at
 * hand. The engine records it as a per-object error under `code`, so one huge object cannot stall
 * or exhaust the engine and everything else still syncs.
 */
export class CostLimitError extends EvaluationError {
  readonly code = "expression-cost-exceeded";
  constructor(message: string, expression: string) {
    super(message, expression);
    this.name = "CostLimitError";
  }
}

export interface CompiledExpression {
  readonly text: string;
  readonly variable: ExpressionVariable;
  /** Attribute names the expression reads (as `var.name` or `has(var.name)`). */
  readonly reads: readonly string[];
  /** When the expression is exactly `var.attr`: that attribute (used for reference flows). */
  readonly plainAttribute?: string;
  /** Which of the scope's further `variables` the expression reads. */
  readonly uses: readonly string[];
  /**
   * Evaluates over one object; null means no value. Throws EvaluationError on real failures.
   * `vars` binds the further variables (as CEL ints); one the expression reads must be bound.
   */
  evaluate(attrs: Attributes, vars?: Readonly<Record<string, number>>): AttrValue;
  /** Evaluates as a condition: true only for a boolean true (null / absent is false). */
  test(attrs: Attributes): boolean;
}

const env = celEnv({ funcs: guardedFuncs });

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function compileExpression(text: string, scope: ExpressionScope): CompiledExpression {
  if (typeof text !== "string" || text.trim() === "") {
    throw new ExpressionError("expression is empty", String(text));
  }
  let parsed;
  try {
    parsed = parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const col = /column (\d+)/.exec(msg)?.[1];
    throw new ExpressionError(`does not parse: ${msg}`, text, col ? Number(col) : undefined);
  }
  const reads = new Set<string>();
  const unknownVars = new Set<string>();
  const extra = new Set(scope.variables ?? []);
  const usedExtra = new Set<string>();
  walk(parsed.expr, (node) => {
    const k = node.exprKind as { case: string | undefined; value: any };
    if (k.case === "selectExpr") {
      const operand = k.value.operand?.exprKind;
      if (operand?.case === "identExpr" && operand.value.name === scope.variable) reads.add(k.value.field);
    } else if (k.case === "identExpr") {
      const name = k.value.name;
      if (extra.has(name)) usedExtra.add(name);
      else if (name !== scope.variable && !LOOP_VARS.has(name)) unknownVars.add(name);
    }
  });
  // Comprehension variables (x in list.all(x, ...)) show up as identifiers too; they are bound
  // inside the macro, so only names that are neither our variable nor bound are reported.
  const bound = comprehensionVars(parsed.expr);
  const unknown = [...unknownVars].filter((v) => !bound.has(v) && !KNOWN_IDENTS.has(v));
  if (unknown.length > 0) {
    throw new ExpressionError(
      `unknown variable ${unknown.map((u) => `'${u}'`).join(", ")}: this expression can read only '${scope.variable}'`,
      text,
    );
  }
  if (scope.attributes) {
    const missing = [...reads].filter((r) => !scope.attributes!.has(r));
    if (missing.length > 0) {
      throw new ExpressionError(
        `${scope.variable} has no attribute ${missing.map((m) => `'${m}'`).join(", ")} (declared: ${[...scope.attributes].sort().join(", ") || "none"})`,
        text,
      );
    }
  }
  const root = parsed.expr as unknown as Node | undefined;
  if (root) {
    const { cost, hotspot } = estimateCost(root, assumedModel(scope.variable, scope.attributes));
    if (cost > VALIDATE_COST_BUDGET) {
      throw new ExpressionError(
        `too expensive: estimated cost ${formatCost(cost)} exceeds the budget of ${formatCost(VALIDATE_COST_BUDGET)}; ` +
          `the cost is in ${hotspot()} (an attribute is assumed to hold up to ${formatCost(ASSUMED_MAX_VALUES)} values of ${formatCost(ASSUMED_MAX_LENGTH)} characters)`,
        text,
      );
    }
  }
  let program: (ctx: Record<string, unknown>) => unknown;
  try {
    program = plan(env, parsed) as unknown as (ctx: Record<string, unknown>) => unknown;
  } catch (e) {
    throw new ExpressionError(`does not compile: ${(e as Error).message}`, text);
  }
  const trimmed = text.trim();
  const plainMatch = new RegExp(`^${scope.variable}\\.([A-Za-z_][A-Za-z0-9_]*)$`).exec(trimmed);
  const variable = scope.variable;

  // Only comprehensions make the cost depend on the object's values beyond what the static
  // estimate bounded; every other expression skips the run-time estimate entirely.
  const costly = root && hasComprehension(root) ? root : undefined;

  // A comprehension variable that merely shares the name is not a use of it.
  const uses = [...usedExtra].filter((v) => !bound.has(v)).sort();

  function evaluate(attrs: Attributes, vars?: Readonly<Record<string, number>>): AttrValue {
    if (costly) {
      const { cost, hotspot } = estimateCost(costly, actualModel(variable, attrs));
      if (cost > RUNTIME_COST_BUDGET) {
        throw new CostLimitError(
          `cost limit: '${text}' would cost an estimated ${formatCost(cost)} with this object's values, over the run-time budget of ${formatCost(RUNTIME_COST_BUDGET)} (the cost is in ${hotspot()})`,
          text,
        );
      }
    }
    resetLimits();
    const bindings: Record<string, unknown> = { [variable]: attrs };
    // A JavaScript number is a CEL double; a bigint is an int, so `string(iteration)` reads "2", not "2.0".
    if (vars) for (const [k, v] of Object.entries(vars)) bindings[k] = Number.isInteger(v) ? BigInt(v) : v;
    const result = program(bindings);
    const exceeded = limitExceeded();
    if (exceeded !== undefined) {
      throw new CostLimitError(`cost limit: '${text}' stopped after building more than ${formatCost(WORK_LIMIT)} characters and list elements (${exceeded})`, text);
    }
    if (isCelError(result)) {
      // "field not found" / "no such key" is how CEL reports an absent attribute: no value.
      const msg = (result as Error).message;
      if (/field not found|no such key|no such attribute/i.test(msg)) return null;
      throw new EvaluationError(msg, text);
    }
    return toAttrValue(result as CelValue, text);
  }
  return {
    text,
    variable,
    reads: [...reads],
    plainAttribute: plainMatch && IDENT.test(plainMatch[1]) ? plainMatch[1] : undefined,
    uses,
    evaluate,
    test(attrs) {
      return evaluate(attrs) === true;
    },
  };
}

/** The run-time cost model: the object's real values instead of assumed maxima. */
function actualModel(variable: string, attrs: Attributes): CostModel {
  return {
    variable,
    attribute(name: string | undefined): Shape {
      if (name !== undefined) return shapeOf(Object.hasOwn(attrs, name) ? attrs[name] : undefined);
      // A computed name (`source[x]`): the largest of all attributes.
      let n = 0;
      let chars = 0;
      let elem = 0;
      for (const v of Object.values(attrs)) {
        const s = shapeOf(v);
        (n = Math.max(n, s.n)), (chars = Math.max(chars, s.chars)), (elem = Math.max(elem, s.elem?.chars ?? 0));
      }
      return { n, chars, elem: { n: 0, chars: elem } };
    },
    get attributeCount() {
      return Object.keys(attrs).length;
    },
  };
}

const LOOP_VARS = new Set<string>(["__result__"]);
const KNOWN_IDENTS = new Set<string>(["null", "true", "false", "int", "uint", "double", "string", "bool", "bytes", "list", "map", "type"]);

function toAttrValue(v: CelValue, text: string): AttrValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return v;
    case "bigint":
      return Number(v);
  }
  if (isCelList(v)) {
    const out: string[] = [];
    for (const item of v as Iterable<CelValue>) {
      const x = toAttrValue(item, text);
      if (x === null) continue;
      if (Array.isArray(x)) out.push(...x);
      else out.push(String(x));
    }
    return out;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (isCelMap(v)) throw new EvaluationError("a map is not an attribute value", text);
  if (typeof (v as { value?: unknown }).value === "bigint") return Number((v as { value: bigint }).value);
  return String(v);
}

type Node = { exprKind: { case: string | undefined; value?: unknown } };

function children(node: Node): Node[] {
  const k = node.exprKind as { case: string | undefined; value: Record<string, unknown> };
  const out: Node[] = [];
  switch (k.case) {
    case "selectExpr":
      if (k.value.operand) out.push(k.value.operand as Node);
      break;
    case "callExpr":
      if (k.value.target) out.push(k.value.target as Node);
      out.push(...((k.value.args as Node[]) ?? []));
      break;
    case "listExpr":
      out.push(...((k.value.elements as Node[]) ?? []));
      break;
    case "structExpr":
      for (const e of (k.value.entries as Array<{ keyKind?: { case?: string; value?: unknown }; value?: Node }>) ?? []) {
        if (e.keyKind?.case === "mapKey") out.push(e.keyKind.value as Node);
        if (e.value) out.push(e.value);
      }
      break;
    case "comprehensionExpr":
      for (const f of ["iterRange", "accuInit", "loopCondition", "loopStep", "result"]) {
        if (k.value[f]) out.push(k.value[f] as Node);
      }
      break;
  }
  return out;
}

function walk(node: Node | undefined, visit: (n: Node) => void): void {
  if (!node) return;
  visit(node);
  for (const c of children(node)) walk(c, visit);
}

function comprehensionVars(root: Node | undefined): Set<string> {
  const vars = new Set<string>();
  walk(root, (n) => {
    if (n.exprKind.case === "comprehensionExpr") {
      const v = n.exprKind.value as { iterVar?: string; accuVar?: string; iterVar2?: string };
      for (const name of [v.iterVar, v.accuVar, v.iterVar2]) if (name) vars.add(name);
    }
  });
  return vars;
}
