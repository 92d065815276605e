// CEL expressions over identity objects.
//
// Semantics chosen for identity data (DESIGN.md): an object is a map of attribute name → value; an
// absent attribute is simply not in the map. An expression that reads an absent attribute yields no
// value (null) instead of failing, so `source.givenName + " " + source.sn` with no sn flows nothing,
// exactly as a MIM flow with a missing source attribute does. `has(source.sn)` tests presence.
// Attribute names are checked against the declared schema at compile time, so a typo is a config
// error, not a silent null at run time.
import {
  celEnv,
  celFunc,
  CelScalar,
  isCelError,
  isCelList,
  isCelMap,
  parse,
  plan,
  type CelValue,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { escapeDNComponent } from "./dn.ts";

export { escapeDNComponent } from "./dn.ts";

/** An attribute value as the engine stores it. Binary values are base64 strings. */
export type AttrValue = string | number | boolean | string[] | null;
export type Attributes = Record<string, AttrValue>;

export type ExpressionVariable = "source" | "mv" | "object";

export interface ExpressionScope {
  variable: ExpressionVariable;
  /** Attribute names the variable may read; undefined means any name (schema not known). */
  attributes?: ReadonlySet<string>;
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

export interface CompiledExpression {
  readonly text: string;
  readonly variable: ExpressionVariable;
  /** Attribute names the expression reads (as `var.name` or `has(var.name)`). */
  readonly reads: readonly string[];
  /** When the expression is exactly `var.attr`: that attribute (used for reference flows). */
  readonly plainAttribute?: string;
  /** Evaluates over one object; null means no value. Throws EvaluationError on real failures. */
  evaluate(attrs: Attributes): AttrValue;
  /** Evaluates as a condition: true only for a boolean true (null / absent is false). */
  test(attrs: Attributes): boolean;
}

const env = celEnv({
  funcs: [
    ...strings,
    celFunc("escapeDNComponent", [CelScalar.STRING], CelScalar.STRING, (s: string) => escapeDNComponent(s)),
  ],
});

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
  walk(parsed.expr, (node) => {
    const k = node.exprKind as { case: string | undefined; value: any };
    if (k.case === "selectExpr") {
      const operand = k.value.operand?.exprKind;
      if (operand?.case === "identExpr" && operand.value.name === scope.variable) reads.add(k.value.field);
    } else if (k.case === "identExpr") {
      const name = k.value.name;
      if (name !== scope.variable && !LOOP_VARS.has(name)) unknownVars.add(name);
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
  let program: (ctx: Record<string, unknown>) => unknown;
  try {
    program = plan(env, parsed) as unknown as (ctx: Record<string, unknown>) => unknown;
  } catch (e) {
    throw new ExpressionError(`does not compile: ${(e as Error).message}`, text);
  }
  const trimmed = text.trim();
  const plainMatch = new RegExp(`^${scope.variable}\\.([A-Za-z_][A-Za-z0-9_]*)$`).exec(trimmed);
  const variable = scope.variable;

  function evaluate(attrs: Attributes): AttrValue {
    const result = program({ [variable]: attrs });
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
    evaluate,
    test(attrs) {
      return evaluate(attrs) === true;
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
      for (const e of (k.value.entries as Array<{ mapKey?: Node; value?: Node }>) ?? []) {
        if (e.mapKey) out.push(e.mapKey);
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
