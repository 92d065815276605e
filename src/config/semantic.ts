// Semantic checks on schema-valid resources: what a schema cannot say. References resolve (rules →
// MAs → object types → attributes, policies → MAs and metaverse attributes), every CEL expression
// compiles against the attributes its variable may read, no two inbound rules of equal precedence
// flow one metaverse attribute, names are unique, durations and cron expressions parse.
// Every problem is collected; nothing stops at the first.
import { compileExpression, ExpressionError, type ExpressionVariable } from "../expr/index.ts";
import { ITERATION_VARIABLE, type AnyResource, type ConfigError, type ManagementAgent, type ObjectTypeSpec, type RetentionPolicy, type SyncRule } from "./model.ts";
import { resourceError } from "./errors.ts";
import { metaverseContributions, schemaFrom, type MetaverseSchema } from "./metaverse.ts";
import { parseDuration } from "./duration.ts";
import { cronProblem } from "./cron.ts";
import { originOf, resolveDataPath, type PathPolicy } from "./paths.ts";

export interface SemanticOptions {
  /**
   * Resources that failed schema validation. They are known by kind and name only: references to
   * them are not reported as unresolved, and checks that would need their content are skipped, so
   * one broken resource does not cascade into errors on every resource that names it.
   */
  unvalidated?: readonly AnyResource[];
  /** Where CSV files may lie (config/paths.ts); absent: paths are not checked. */
  paths?: PathPolicy;
}

const MV_ATTRIBUTE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function checkSemantics(resources: readonly AnyResource[], options: SemanticOptions = {}): ConfigError[] {
  const errors: ConfigError[] = [];
  const unvalidated = options.unvalidated ?? [];
  const mas = resources.filter((r): r is ManagementAgent => r.kind === "ManagementAgent");
  const rules = resources.filter((r): r is SyncRule => r.kind === "SyncRule");
  const policies = resources.filter((r): r is RetentionPolicy => r.kind === "RetentionPolicy");

  checkUniqueNames([...resources, ...unvalidated], errors);

  const maByName = new Map<string, ManagementAgent>();
  for (const ma of mas) if (!maByName.has(ma.metadata.name)) maByName.set(ma.metadata.name, ma);
  const brokenMaNames = new Set(unvalidated.filter((r) => r.kind === "ManagementAgent").map((r) => nameOf(r)));

  // Metaverse types an unvalidated inbound rule might flow into have an unknown attribute set.
  const uncertainMv = new Set<string>();
  let everyMvUncertain = false;
  for (const r of unvalidated) {
    if (r.kind !== "SyncRule") continue;
    const spec = (r as Partial<SyncRule>).spec as Partial<SyncRule["spec"]> | undefined;
    if (spec?.direction === "outbound") continue;
    if (typeof spec?.metaverseObjectType === "string") uncertainMv.add(spec.metaverseObjectType);
    else everyMvUncertain = true;
  }
  const mvIsCertain = (t: string) => !everyMvUncertain && !uncertainMv.has(t);

  for (const ma of mas) checkManagementAgent(ma, errors, options.paths);

  // Inbound rules whose MA or object type does not resolve still declare their metaverse
  // attributes (untyped): their own error is enough, outbound rules reading them are fine.
  const contributions = metaverseContributions(mas, rules);
  const mvSchema = schemaFrom(contributions);
  // Attributes whose type is known (a plain source.X flow from a resolved MA); others are "string" by guess.
  const typedMv = new Set(contributions.filter((c) => c.typed).map((c) => `${c.metaverseObjectType}.${c.attribute}`));

  for (const rule of rules) {
    const ma = maByName.get(rule.spec.managementAgent);
    if (!ma) {
      if (!brokenMaNames.has(rule.spec.managementAgent)) {
        errors.push(resourceError(rule, "spec.managementAgent", `no ManagementAgent named '${rule.spec.managementAgent}'${declared(maByName.keys())}`));
      }
      continue;
    }
    if (rule.spec.direction === "inbound") checkInbound(rule, ma, errors);
    else checkOutbound(rule, ma, mvSchema, typedMv, mvIsCertain, errors);
  }

  checkPrecedence(rules.filter((r) => r.spec.direction === "inbound"), errors);
  checkMetaverseTypes(contributions, errors);

  const policyByType = new Map<string, RetentionPolicy>();
  for (const policy of policies) {
    const first = policyByType.get(policy.spec.metaverseObjectType);
    if (first) {
      errors.push(
        resourceError(policy, "spec.metaverseObjectType", `RetentionPolicy '${first.metadata.name}'${where(first)} already governs metaverse type '${policy.spec.metaverseObjectType}'`),
      );
    } else policyByType.set(policy.spec.metaverseObjectType, policy);
    checkPolicy(policy, maByName, brokenMaNames, mvSchema, mvIsCertain, errors);
  }
  return errors;
}

// ---------------------------------------------------------------- names

function checkUniqueNames(all: readonly AnyResource[], errors: ConfigError[]): void {
  const seen = new Map<string, AnyResource>();
  for (const r of all) {
    const name = nameOf(r);
    if (!name) continue;
    const key = `${r.kind}/${name}`;
    const first = seen.get(key);
    if (first) errors.push(resourceError(r, "metadata.name", `a ${r.kind} named '${name}' is already declared${where(first)}`));
    else seen.set(key, r);
  }
}

// ---------------------------------------------------------------- ManagementAgent

function checkManagementAgent(ma: ManagementAgent, errors: ConfigError[], paths: PathPolicy | undefined): void {
  const spec = ma.spec;
  const csvPath = spec.connector.csv?.path;
  if (paths && typeof csvPath === "string") {
    const resolved = resolveDataPath(paths, csvPath, originOf(ma));
    if (!resolved.ok) errors.push(resourceError(ma, "spec.connector.csv.path", resolved.message));
  }
  const allAttributes = new Set<string>();
  spec.objectTypes.forEach((type, t) => {
    const attrs = new Map(type.attributes.map((a) => [a.name, a]));
    for (const a of type.attributes) allAttributes.add(a.name);
    type.anchor.forEach((name, i) => {
      const attr = attrs.get(name);
      if (!attr) {
        errors.push(resourceError(ma, `spec.objectTypes[${t}].anchor[${i}]`, `anchor attribute '${name}' is not declared in object type '${type.name}'${declared(attrs.keys())}`));
      } else if (attr.multiValued) {
        errors.push(resourceError(ma, `spec.objectTypes[${t}].anchor[${i}]`, `anchor attribute '${name}' is multi-valued; an anchor needs a single value`));
      }
    });
    type.attributes.forEach((attr, i) => {
      if (attr.referenceTo !== undefined && !spec.objectTypes.some((o) => o.name === attr.referenceTo)) {
        errors.push(
          resourceError(ma, `spec.objectTypes[${t}].attributes[${i}].referenceTo`, `'${attr.referenceTo}' is not an object type of this management agent${declared(spec.objectTypes.map((o) => o.name))}`),
        );
      }
    });
  });
  const csvType = spec.connector.csv?.objectType;
  if (csvType !== undefined && !spec.objectTypes.some((o) => o.name === csvType)) {
    errors.push(resourceError(ma, "spec.connector.csv.objectType", `'${csvType}' is not an object type of this management agent${declared(spec.objectTypes.map((o) => o.name))}`));
  }
  if (spec.filter !== undefined) compile(ma, "spec.filter", spec.filter, "object", allAttributes, errors);
  (spec.schedule ?? []).forEach((entry, i) => {
    if (entry.every !== undefined) duration(ma, `spec.schedule[${i}].every`, entry.every, errors);
    if (entry.cron !== undefined) {
      const problem = cronProblem(entry.cron);
      if (problem) errors.push(resourceError(ma, `spec.schedule[${i}].cron`, problem));
    }
  });
}

// ---------------------------------------------------------------- SyncRule

function checkInbound(rule: SyncRule, ma: ManagementAgent, errors: ConfigError[]): void {
  const spec = rule.spec;
  const type = objectTypeOf(ma, spec.sourceObjectType);
  if (!type) errors.push(unknownObjectType(rule, "spec.sourceObjectType", spec.sourceObjectType, ma));
  // With an unknown object type the expressions are still parsed, but any attribute name is accepted.
  const attrs = type ? new Set(type.attributes.map((a) => a.name)) : undefined;
  if (spec.scope !== undefined) compile(rule, "spec.scope", spec.scope, "source", attrs, errors);
  (spec.join ?? []).forEach((j, i) => compile(rule, `spec.join[${i}].expression`, j.expression, "source", attrs, errors));
  (spec.attributeFlows ?? []).forEach((f, i) => {
    if (!MV_ATTRIBUTE.test(f.target)) {
      errors.push(resourceError(rule, `spec.attributeFlows[${i}].target`, `'${f.target}' cannot be a metaverse attribute: use letters, digits and _ (outbound rules read it as mv.${f.target})`));
    }
    if (f.initialOnly) errors.push(resourceError(rule, `spec.attributeFlows[${i}].initialOnly`, "initialOnly is only for outbound flows"));
    if (f.unique) errors.push(resourceError(rule, `spec.attributeFlows[${i}].unique`, "unique is only for outbound flows (a value no other object of the target system holds)"));
    compile(rule, `spec.attributeFlows[${i}].expression`, f.expression, "source", attrs, errors);
  });
}

function checkOutbound(
  rule: SyncRule,
  ma: ManagementAgent,
  mvSchema: MetaverseSchema,
  typedMv: ReadonlySet<string>,
  mvIsCertain: (type: string) => boolean,
  errors: ConfigError[],
): void {
  const spec = rule.spec;
  const target = objectTypeOf(ma, spec.targetObjectType);
  if (!target) errors.push(unknownObjectType(rule, "spec.targetObjectType", spec.targetObjectType, ma));
  const mvAttrs = mvSchema.get(spec.metaverseObjectType);
  const certain = mvIsCertain(spec.metaverseObjectType);
  if (!mvAttrs && certain) {
    errors.push(
      resourceError(rule, "spec.metaverseObjectType", `no inbound rule flows into metaverse object type '${spec.metaverseObjectType}'${declared(mvSchema.keys(), "known")}`),
    );
  }
  const readable = mvAttrs && certain ? new Set(mvAttrs.keys()) : undefined;
  if (spec.scope !== undefined) compile(rule, "spec.scope", spec.scope, "mv", readable, errors);
  if (spec.dn !== undefined) compile(rule, "spec.dn", spec.dn, "mv", readable, errors);
  if (spec.deprovisionDN !== undefined) {
    compile(rule, "spec.deprovisionDN", spec.deprovisionDN, "mv", readable, errors);
    // Without dn nothing would move a returning object back out of where deprovisioning put it.
    if (spec.dn === undefined) errors.push(resourceError(rule, "spec.deprovisionDN", "deprovisionDN needs dn: the DN a returning object is moved back to"));
  }
  if (spec.provision && (ma.spec.connector.type === "ldap" || ma.spec.connector.type === "activeDirectory") && spec.dn === undefined) {
    errors.push(resourceError(rule, "spec.dn", `provisioning into directory management agent '${ma.metadata.name}' needs dn: the CEL expression giving the new object's DN`));
  }
  const targetAttrs = target ? new Map(target.attributes.map((a) => [a.name, a])) : undefined;
  for (const list of ["attributeFlows", "deprovisionFlows"] as const) {
    (spec[list] ?? []).forEach((f, i) => {
      const at = `spec.${list}[${i}]`;
      const attr = targetAttrs?.get(f.target);
      if (targetAttrs && !attr) {
        errors.push(resourceError(rule, `${at}.target`, `object type '${target!.name}' of management agent '${ma.metadata.name}' has no attribute '${f.target}'${declared(targetAttrs.keys())}`));
      }
      const compiled = compile(rule, `${at}.expression`, f.expression, "mv", readable, errors, [ITERATION_VARIABLE]);
      const unique = list === "attributeFlows" && "unique" in f && f.unique === true;
      if (compiled?.uses.includes(ITERATION_VARIABLE) && !unique) {
        errors.push(
          resourceError(rule, `${at}.expression`, `reads ${ITERATION_VARIABLE}, which only an attribute flow with unique: true has (the try at a value no other object holds)`),
        );
      }
      if (unique && (attr?.type === "reference" || attr?.multiValued)) {
        errors.push(resourceError(rule, `${at}.unique`, `'${f.target}' is ${attr.multiValued ? "multi-valued" : "a reference"}: unique is for an attribute of a single value`));
      }
      // A reference is translated into the referenced object's anchor or DN in the target system;
      // that needs the metaverse reference itself, not a value computed from it.
      if (attr?.type === "reference" && compiled && readable) {
        const source = compiled.plainAttribute;
        const typeKnown = source !== undefined && typedMv.has(`${spec.metaverseObjectType}.${source}`);
        if (!source || (typeKnown && mvAttrs?.get(source)?.type !== "reference")) {
          errors.push(
            resourceError(rule, `${at}.expression`, `'${f.target}' is a reference: its flow must be exactly mv.<a metaverse reference attribute>${source ? ` ('${source}' is not a reference)` : ""}`),
          );
        }
      }
    });
  }
}

/** Two inbound rules with the same precedence flowing one metaverse attribute: which one wins is undefined. */
function checkPrecedence(inbound: readonly SyncRule[], errors: ConfigError[]): void {
  const seen = new Map<string, SyncRule>();
  for (const rule of inbound) {
    (rule.spec.attributeFlows ?? []).forEach((f, i) => {
      const key = JSON.stringify([rule.spec.metaverseObjectType, f.target, rule.spec.precedence]);
      const first = seen.get(key);
      if (!first) {
        seen.set(key, rule);
      } else if (first !== rule) {
        errors.push(
          resourceError(
            rule,
            `spec.attributeFlows[${i}].target`,
            `SyncRule '${first.metadata.name}'${where(first)} also flows metaverse attribute ${rule.spec.metaverseObjectType}.${f.target} with precedence ${rule.spec.precedence}; give the rules different precedences`,
          ),
        );
      }
    });
  }
}

/** Typed flows into one metaverse attribute must agree on its type; references must land in the metaverse. */
function checkMetaverseTypes(contributions: ReturnType<typeof metaverseContributions>, errors: ConfigError[]): void {
  const firstTyped = new Map<string, (typeof contributions)[number]>();
  for (const c of contributions) {
    if (c.sourceReferenceTo && !c.referenceTo) {
      errors.push(
        resourceError(
          c.rule,
          c.path,
          `'${c.attribute}' flows a reference to object type '${c.sourceReferenceTo}' of management agent '${c.rule.spec.managementAgent}', but no inbound rule of that management agent brings '${c.sourceReferenceTo}' into the metaverse`,
        ),
      );
    }
    if (!c.typed) continue;
    const key = `${c.metaverseObjectType}.${c.attribute}`;
    const first = firstTyped.get(key);
    if (!first) {
      firstTyped.set(key, c);
    } else if (first.type !== c.type || (c.type === "reference" && first.referenceTo !== c.referenceTo && c.referenceTo && first.referenceTo)) {
      const describe = (x: typeof c) => (x.type === "reference" ? `a reference to ${x.referenceTo ?? "?"}` : `a ${x.type}`);
      errors.push(
        resourceError(c.rule, c.path, `flows ${describe(c)} into metaverse attribute ${key}, but SyncRule '${first.rule.metadata.name}'${where(first.rule)} flows ${describe(first)}`),
      );
    }
  }
}

// ---------------------------------------------------------------- RetentionPolicy

function checkPolicy(
  policy: RetentionPolicy,
  maByName: Map<string, ManagementAgent>,
  brokenMaNames: Set<string | undefined>,
  mvSchema: MetaverseSchema,
  mvIsCertain: (type: string) => boolean,
  errors: ConfigError[],
): void {
  const spec = policy.spec;
  const attrs = mvSchema.get(spec.metaverseObjectType);
  const certain = mvIsCertain(spec.metaverseObjectType);
  if (!attrs && certain) {
    errors.push(
      resourceError(policy, "spec.metaverseObjectType", `no inbound rule flows into metaverse object type '${spec.metaverseObjectType}'${declared(mvSchema.keys(), "known")}`),
    );
  }
  (spec.deleteWhen?.disconnectedFrom ?? []).forEach((name, i) => {
    if (!maByName.has(name) && !brokenMaNames.has(name)) {
      errors.push(resourceError(policy, `spec.deleteWhen.disconnectedFrom[${i}]`, `no ManagementAgent named '${name}'${declared(maByName.keys())}`));
    }
  });
  if (attrs && certain) {
    (spec.personalData?.attributes ?? []).forEach((name, i) => {
      if (!attrs.has(name)) {
        errors.push(resourceError(policy, `spec.personalData.attributes[${i}]`, `metaverse type '${spec.metaverseObjectType}' has no attribute '${name}'${declared(attrs.keys())}`));
      }
    });
  }
  if (spec.gracePeriod !== undefined) duration(policy, "spec.gracePeriod", spec.gracePeriod, errors);
  if (spec.runHistory?.keep !== undefined) duration(policy, "spec.runHistory.keep", spec.runHistory.keep, errors);
}

// ---------------------------------------------------------------- helpers

function compile(
  resource: AnyResource,
  path: string,
  text: string,
  variable: ExpressionVariable,
  attributes: ReadonlySet<string> | undefined,
  errors: ConfigError[],
  variables?: readonly string[],
): ReturnType<typeof compileExpression> | undefined {
  try {
    return compileExpression(text, { variable, attributes, variables });
  } catch (e) {
    const message = e instanceof ExpressionError ? e.message : `does not compile: ${(e as Error).message}`;
    errors.push(resourceError(resource, path, message));
    return undefined;
  }
}

function duration(resource: AnyResource, path: string, text: string, errors: ConfigError[]): void {
  try {
    parseDuration(text);
  } catch (e) {
    errors.push(resourceError(resource, path, (e as Error).message));
  }
}

function objectTypeOf(ma: ManagementAgent, name: string | undefined): ObjectTypeSpec | undefined {
  return name === undefined ? undefined : ma.spec.objectTypes.find((t) => t.name === name);
}

function unknownObjectType(rule: SyncRule, path: string, name: string | undefined, ma: ManagementAgent): ConfigError {
  return resourceError(rule, path, `management agent '${ma.metadata.name}' has no object type '${name}'${declared(ma.spec.objectTypes.map((t) => t.name))}`);
}

function nameOf(r: AnyResource): string | undefined {
  const name = (r.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : undefined;
}

function declared(names: Iterable<string>, word = "declared"): string {
  const list = [...names].sort();
  return ` (${word}: ${list.length > 0 ? list.join(", ") : "none"})`;
}

function where(r: AnyResource): string {
  return r.source ? ` (${r.source.file}:${r.source.line})` : "";
}
