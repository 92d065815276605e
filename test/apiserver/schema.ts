// Structural-schema handling of custom resources, in the order the real server applies it:
// prune unknown fields (and nulls where not nullable) → apply defaults → validate (ajv) → CEL rules.
// Failures come back as StatusCauses with Kubernetes field paths (`spec.objectTypes[0].anchor`)
// and Kubernetes wording, so a 422 from here reads like one from a cluster.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { renderValue, type StatusCause } from "./errors.ts";
import type { KObject, ObjectSchema } from "./resources.ts";

/** The subset of an OpenAPI v3 structural schema the server interprets. */
export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  nullable?: boolean;
  default?: unknown;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-validations"?: Array<{ rule: string; message?: string; reason?: string; fieldPath?: string }>;
  [key: string]: unknown;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const OBJECT_META_FIELDS = new Set([
  "name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "finalizers",
  "ownerReferences", "managedFields", "selfLink",
]);

type Json = Record<string, unknown>;
const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Drops what the schema does not declare; nulls go too unless the field is nullable. */
function prune(value: unknown, schema: StructuralSchema, embedded: boolean): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) prune(item, schema.items, !!schema.items["x-kubernetes-embedded-resource"]);
    return;
  }
  if (!isMap(value)) return;
  const extra = typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined;
  for (const key of Object.keys(value)) {
    const sub = schema.properties?.[key] ?? extra;
    if (embedded && (key === "apiVersion" || key === "kind" || key === "metadata")) {
      if (key === "metadata" && isMap(value.metadata)) pruneObjectMeta(value.metadata);
      continue;
    }
    if (sub) {
      if (value[key] === null && !sub.nullable) delete value[key];
      else prune(value[key], sub, !!sub["x-kubernetes-embedded-resource"]);
    } else if (!schema["x-kubernetes-preserve-unknown-fields"] && schema.additionalProperties !== true) {
      delete value[key];
    }
  }
}

function pruneObjectMeta(meta: Json): void {
  for (const key of Object.keys(meta)) if (!OBJECT_META_FIELDS.has(key)) delete meta[key];
}

/** Fills absent fields that declare a default, descending into what is (now) present. */
function applyDefaults(value: unknown, schema: StructuralSchema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(item, schema.items);
    return;
  }
  if (!isMap(value)) return;
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (!(key in value) && sub.default !== undefined) value[key] = structuredClone(sub.default);
    if (key in value) applyDefaults(value[key], sub);
  }
  if (typeof schema.additionalProperties === "object") {
    for (const key of Object.keys(value)) if (!schema.properties?.[key]) applyDefaults(value[key], schema.additionalProperties);
  }
}

/** ajv and OpenAPI disagree on `nullable` without `type` (int-or-string); Kubernetes accepts it. */
function forAjv(schema: StructuralSchema, root: boolean): StructuralSchema {
  const out: StructuralSchema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith("x-kubernetes-") || k === "default") continue;
    if (k === "nullable" && !schema.type) continue;
    if (k === "properties" && isMap(v)) {
      const props: Record<string, StructuralSchema> = {};
      for (const [name, sub] of Object.entries(v)) {
        // ObjectMeta is validated by the server itself, never by the CRD's schema.
        if (root && name === "metadata") continue;
        props[name] = forAjv(sub as StructuralSchema, false);
      }
      out.properties = props;
    } else if ((k === "items" || k === "additionalProperties" || k === "not") && isMap(v)) {
      out[k] = forAjv(v as StructuralSchema, false);
    } else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) {
      out[k] = v.map((s) => forAjv(s as StructuralSchema, false));
    } else out[k] = v;
  }
  if (schema["x-kubernetes-preserve-unknown-fields"] && !schema.type && !schema.properties) return {};
  return out;
}

/** `/spec/objectTypes/0/anchor` → `spec.objectTypes[0].anchor` */
function fieldPath(pointer: string): string {
  let path = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path += /^\d+$/.test(part) ? `[${part}]` : path ? `.${part}` : part;
  }
  return path;
}

function valueAt(root: unknown, pointer: string): unknown {
  let v: unknown = root;
  for (const part of pointer.split("/").slice(1)) v = (v as Json | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  return v;
}

function causeOf(err: ErrorObject, root: unknown): StatusCause {
  const field = fieldPath(err.instancePath);
  const value = valueAt(root, err.instancePath);
  const p = err.params as Record<string, unknown>;
  const invalid = (what: string): StatusCause => ({
    reason: "FieldValueInvalid",
    field,
    message: `Invalid value: ${renderValue(value)}: ${field} in body ${what}`,
  });
  switch (err.keyword) {
    case "required": {
      const missing = String(p.missingProperty);
      return { reason: "FieldValueRequired", field: field ? `${field}.${missing}` : missing, message: "Required value" };
    }
    case "type": {
      // The real message names the JSON type found twice: `Invalid value: "string": f in body must be of type integer: "string"`.
      const found = value === null ? "null" : Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;
      return {
        reason: "FieldValueTypeInvalid",
        field,
        message: `Invalid value: "${found}": ${field} in body must be of type ${String(p.type)}: "${found}"`,
      };
    }
    case "enum":
      return {
        reason: "FieldValueNotSupported",
        field,
        message: `Unsupported value: ${renderValue(value)}: supported values: ${(p.allowedValues as unknown[]).map(renderValue).join(", ")}`,
      };
    case "pattern":
      return invalid(`should match '${String(p.pattern)}'`);
    case "minimum":
      return invalid(`should be greater than or equal to ${String(p.limit)}`);
    case "maximum":
      return invalid(`should be less than or equal to ${String(p.limit)}`);
    case "minLength":
      return invalid(`should be at least ${String(p.limit)} chars long`);
    case "maxLength":
      return { reason: "FieldValueTooLong", field, message: `Too long: may not be more than ${String(p.limit)} bytes` };
    case "minItems":
      return invalid(`should have at least ${String(p.limit)} items`);
    case "maxItems":
      return { reason: "FieldValueTooMany", field, message: `Too many: ${(value as unknown[]).length}: must have at most ${String(p.limit)} items` };
    case "format":
      return invalid(`must be of type ${String(p.format)}`);
    default:
      return invalid(err.message ?? err.keyword);
  }
}

const celEnvironment = celEnv({ funcs: [...strings] });

interface CelRule {
  pointerParts: string[];
  rule: string;
  message?: string;
  reason?: string;
  program?: (ctx: Record<string, unknown>) => unknown;
}

/** Collects x-kubernetes-validations with where they apply; `*` stands for every item or map value. */
function collectRules(schema: StructuralSchema, at: string[], out: CelRule[]): void {
  for (const v of schema["x-kubernetes-validations"] ?? []) {
    let program: CelRule["program"];
    try {
      program = plan(celEnvironment, parse(v.rule)) as unknown as CelRule["program"];
    } catch {
      program = undefined; // Kubernetes-only functions (quantity(), url(), ...) are not evaluated here.
    }
    out.push({ pointerParts: at, rule: v.rule, message: v.message, reason: v.reason, program });
  }
  for (const [k, sub] of Object.entries(schema.properties ?? {})) collectRules(sub, [...at, k], out);
  if (schema.items) collectRules(schema.items, [...at, "*"], out);
  if (typeof schema.additionalProperties === "object") collectRules(schema.additionalProperties, [...at, "*"], out);
}

function* valuesAt(value: unknown, parts: string[], path: string[]): Generator<[unknown, string[]]> {
  if (parts.length === 0) {
    yield [value, path];
    return;
  }
  const [head, ...rest] = parts;
  if (head === "*") {
    if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* valuesAt(value[i], rest, [...path, String(i)]);
    else if (isMap(value)) for (const k of Object.keys(value)) yield* valuesAt(value[k], rest, [...path, k]);
  } else if (isMap(value) && head in value) yield* valuesAt(value[head], rest, [...path, head]);
}

function celCauses(rules: CelRule[], obj: KObject, old: KObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const r of rules) {
    if (!r.program) continue;
    for (const [self, path] of valuesAt(obj, r.pointerParts, [])) {
      const oldSelf = old ? [...valuesAt(old, path, [])][0]?.[0] : undefined;
      if (r.rule.includes("oldSelf") && oldSelf === undefined) continue; // transition rules need an old value
      let result: unknown;
      try {
        result = r.program({ self, oldSelf });
      } catch {
        continue;
      }
      if (isCelError(result) || result !== false) continue; // only a definite `false` is a violation
      const field = fieldPath(path.length ? "/" + path.join("/") : "");
      causes.push({
        reason: r.reason ?? "FieldValueInvalid",
        field,
        message: `Invalid value: "object": ${r.message ?? `failed rule: ${r.rule}`}`,
      });
    }
  }
  return causes;
}

/** Compiles a CRD version's openAPIV3Schema; throws with ajv's message if the schema itself is broken. */
export function compileSchema(openAPIV3Schema: StructuralSchema): ObjectSchema {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  addFormats(ajv);
  const validate: ValidateFunction = ajv.compile(forAjv(openAPIV3Schema, true));
  const rules: CelRule[] = [];
  collectRules(openAPIV3Schema, [], rules);
  return {
    admit(obj, old) {
      if (isMap(obj.metadata)) pruneObjectMeta(obj.metadata);
      prune(obj, openAPIV3Schema, true);
      applyDefaults(obj, openAPIV3Schema);
      const causes = validate(obj) ? [] : (validate.errors ?? []).map((e) => causeOf(e, obj));
      return causes.length ? causes : celCauses(rules, obj, old);
    },
  };
}
