// The metaverse schema is not declared anywhere by itself: it is what the inbound sync rules flow
// into. Each inbound attribute-flow target and each join's metaverse attribute is an attribute of
// the rule's metaverse object type. A flow of exactly `source.X` carries X's declared type; a
// reference carries over as a reference to the metaverse type its target objects are brought into.
import type { AttributeType, ConfigSet, ManagementAgent, ObjectTypeSpec, SyncRule } from "./model.ts";

export interface MetaverseAttribute {
  type: AttributeType;
  /** For type reference: the metaverse object type the value refers to. */
  referenceTo?: string;
  multiValued?: boolean;
}

/** metaverse object type → attribute name → attribute */
export type MetaverseSchema = Map<string, Map<string, MetaverseAttribute>>;

/** One inbound rule's contribution of one metaverse attribute (used for inference and its checks). */
export interface MetaverseContribution {
  rule: SyncRule;
  /** Field path in the rule, e.g. spec.attributeFlows[2] or spec.join[0]. */
  path: string;
  metaverseObjectType: string;
  attribute: string;
  /** Whether the type is known: the expression is exactly `source.X` with X declared. */
  typed: boolean;
  type: AttributeType;
  multiValued: boolean;
  /** For a reference: the connector-space type it names, and where that type lands in the metaverse. */
  sourceReferenceTo?: string;
  referenceTo?: string;
}

const PLAIN_SOURCE = /^\s*source\.([A-Za-z_][A-Za-z0-9_]*)\s*$/;

/** Infers the metaverse schema from a validated configuration. */
export function inferMetaverseSchema(config: ConfigSet): MetaverseSchema {
  return schemaFrom(metaverseContributions(config.managementAgents, config.syncRules));
}

/**
 * Every metaverse attribute each inbound rule supplies, in a deterministic order (precedence, then
 * name) so the inferred schema does not depend on the order of files.
 */
export function metaverseContributions(mas: readonly ManagementAgent[], rules: readonly SyncRule[]): MetaverseContribution[] {
  const maByName = new Map(mas.map((m) => [m.metadata.name, m]));
  const inbound = rules
    .filter((r) => r.spec.direction === "inbound")
    .sort((a, b) => a.spec.precedence - b.spec.precedence || compare(a.metadata.name, b.metadata.name));
  const out: MetaverseContribution[] = [];
  for (const rule of inbound) {
    const ma = maByName.get(rule.spec.managementAgent);
    const objectType = ma?.spec.objectTypes.find((t) => t.name === rule.spec.sourceObjectType);
    const contribute = (path: string, attribute: string, expression: string) => {
      const c: MetaverseContribution = {
        rule,
        path,
        metaverseObjectType: rule.spec.metaverseObjectType,
        attribute,
        typed: false,
        type: "string",
        multiValued: false,
      };
      const plain = PLAIN_SOURCE.exec(expression)?.[1];
      const declared = plain !== undefined ? objectType?.attributes.find((a) => a.name === plain) : undefined;
      if (declared) {
        c.typed = true;
        c.type = declared.type ?? "string";
        c.multiValued = declared.multiValued ?? false;
        if (c.type === "reference" && declared.referenceTo) {
          c.sourceReferenceTo = declared.referenceTo;
          c.referenceTo = ma ? metaverseTypeOf(ma, declared.referenceTo, inbound) : undefined;
        }
      }
      out.push(c);
    };
    (rule.spec.join ?? []).forEach((j, i) => contribute(`spec.join[${i}].metaverse`, j.metaverse, j.expression));
    (rule.spec.attributeFlows ?? []).forEach((f, i) => contribute(`spec.attributeFlows[${i}].target`, f.target, f.expression));
  }
  return out;
}

/**
 * The metaverse type that objects of connector-space type `csType` of `ma` are brought into: the
 * type of that MA's inbound rules for csType, preferring a projecting rule, then the lowest precedence.
 */
function metaverseTypeOf(ma: ManagementAgent, csType: ObjectTypeSpec["name"], inboundSorted: readonly SyncRule[]): string | undefined {
  const candidates = inboundSorted.filter((r) => r.spec.managementAgent === ma.metadata.name && r.spec.sourceObjectType === csType);
  return (candidates.find((r) => r.spec.projection) ?? candidates[0])?.spec.metaverseObjectType;
}

/** Merges contributions: the first typed contribution (in precedence order) decides an attribute's type. */
export function schemaFrom(contributions: readonly MetaverseContribution[]): MetaverseSchema {
  const schema: MetaverseSchema = new Map();
  const typed = new Set<string>();
  for (const c of contributions) {
    let attrs = schema.get(c.metaverseObjectType);
    if (!attrs) schema.set(c.metaverseObjectType, (attrs = new Map()));
    const key = `${c.metaverseObjectType}.${c.attribute}`;
    const existing = attrs.get(c.attribute);
    if (!existing || (c.typed && !typed.has(key))) {
      const attr: MetaverseAttribute = { type: c.type };
      if (c.referenceTo) attr.referenceTo = c.referenceTo;
      if (c.multiValued || existing?.multiValued) attr.multiValued = true;
      attrs.set(c.attribute, attr);
      if (c.typed) typed.add(key);
    } else if (c.multiValued) {
      existing.multiValued = true;
    }
  }
  return schema;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
