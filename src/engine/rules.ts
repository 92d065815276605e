// The configuration compiled for execution: CEL compiled once, rules indexed by MA and ordered by
// precedence, reference attributes marked. Pure: no I/O, so rule evaluation is easy to test.
import { dirname } from "node:path";
import {
  ITERATION_VARIABLE,
  type AttributeSpec,
  type ConfigSet,
  type DeletionThreshold,
  type DeprovisionAction,
  type ManagementAgent,
  type ObjectTypeSpec,
} from "../config/model.ts";
import { compileExpression, type CompiledExpression } from "../expr/index.ts";
import { effectiveThreshold } from "./threshold.ts";

/** The variable an outbound flow with unique: true reads: which try this is (1, 2, ...). */
export const ITERATION = ITERATION_VARIABLE;

export interface CompiledObjectType {
  spec: ObjectTypeSpec;
  attributes: Map<string, AttributeSpec>;
}

export interface CompiledInboundFlow {
  target: string;
  expr: CompiledExpression;
  /** Set when the flow copies a reference attribute: values are anchors of this CS object type. */
  referenceTo?: string;
}

export interface CompiledInboundRule {
  name: string;
  ma: string;
  sourceType: string;
  mvType: string;
  precedence: number;
  scope?: CompiledExpression;
  join: Array<{ metaverse: string; expr: CompiledExpression }>;
  projection: boolean;
  flows: CompiledInboundFlow[];
}

export interface CompiledOutboundFlow {
  target: string;
  expr: CompiledExpression;
  initialOnly: boolean;
  /** Set when the target attribute is a reference: values are metaverse ids, written as this type's anchor/DN. */
  referenceTo?: string;
  /** No other object of the target type may hold the value; the expression may read `iteration` (unique.ts). */
  unique: boolean;
}

export interface CompiledOutboundRule {
  name: string;
  ma: string;
  targetType: string;
  mvType: string;
  precedence: number;
  scope?: CompiledExpression;
  provision: boolean;
  dn?: CompiledExpression;
  deprovision: DeprovisionAction;
  /** deprovision: disable — the DN the target object is moved to when it leaves scope. */
  deprovisionDN?: CompiledExpression;
  deprovisionFlows: CompiledOutboundFlow[];
  flows: CompiledOutboundFlow[];
}

export interface CompiledMA {
  name: string;
  resource: ManagementAgent;
  baseDir: string;
  types: Map<string, CompiledObjectType>;
  filter?: CompiledExpression;
  stagingMode: boolean;
  /** The deletion guard in force: the declared one, or the default (threshold.ts). */
  threshold: DeletionThreshold;
  allowEmpty: boolean;
  inbound: CompiledInboundRule[];
  outbound: CompiledOutboundRule[];
}

export interface CompiledRetention {
  mvType: string;
  disconnectedFrom: Set<string>;
  lastConnectorRemoved: boolean;
}

export interface CompiledConfig {
  mas: Map<string, CompiledMA>;
  /** Every inbound rule by name (precedence lookups during attribute flow). */
  inboundByName: Map<string, CompiledInboundRule>;
  outbound: CompiledOutboundRule[];
  retention: Map<string, CompiledRetention>;
}

export function compileConfig(config: ConfigSet, defaultBaseDir = process.cwd()): CompiledConfig {
  const mas = new Map<string, CompiledMA>();
  for (const ma of config.managementAgents) {
    const types = new Map<string, CompiledObjectType>();
    for (const t of ma.spec.objectTypes) {
      types.set(t.name, { spec: t, attributes: new Map(t.attributes.map((a) => [a.name, a])) });
    }
    const allAttrs = new Set(ma.spec.objectTypes.flatMap((t) => t.attributes.map((a) => a.name)));
    mas.set(ma.metadata.name, {
      name: ma.metadata.name,
      resource: ma,
      baseDir: ma.source?.file ? dirname(ma.source.file) : defaultBaseDir,
      types,
      filter: ma.spec.filter ? compileExpression(ma.spec.filter, { variable: "object", attributes: allAttrs }) : undefined,
      stagingMode: ma.spec.stagingMode === true,
      threshold: effectiveThreshold(ma.spec.deletionThreshold),
      allowEmpty: ma.spec.allowEmpty === true,
      inbound: [],
      outbound: [],
    });
  }
  const inboundByName = new Map<string, CompiledInboundRule>();
  const outbound: CompiledOutboundRule[] = [];
  for (const rule of config.syncRules) {
    const s = rule.spec;
    const ma = mas.get(s.managementAgent);
    if (!ma) throw new Error(`SyncRule ${rule.metadata.name}: management agent '${s.managementAgent}' is not declared`);
    if (s.direction === "inbound") {
      const type = ma.types.get(s.sourceObjectType ?? "");
      if (!type) throw new Error(`SyncRule ${rule.metadata.name}: object type '${s.sourceObjectType}' is not declared by ${ma.name}`);
      const scope = { variable: "source" as const, attributes: new Set(type.attributes.keys()) };
      const compiled: CompiledInboundRule = {
        name: rule.metadata.name,
        ma: ma.name,
        sourceType: type.spec.name,
        mvType: s.metaverseObjectType,
        precedence: s.precedence,
        scope: s.scope ? compileExpression(s.scope, scope) : undefined,
        join: (s.join ?? []).map((j) => ({ metaverse: j.metaverse, expr: compileExpression(j.expression, scope) })),
        projection: s.projection === true,
        flows: (s.attributeFlows ?? []).map((f) => {
          const expr = compileExpression(f.expression, scope);
          const attr = expr.plainAttribute ? type.attributes.get(expr.plainAttribute) : undefined;
          return {
            target: f.target,
            expr,
            referenceTo: attr?.type === "reference" ? (attr.referenceTo ?? type.spec.name) : undefined,
          };
        }),
      };
      ma.inbound.push(compiled);
      inboundByName.set(compiled.name, compiled);
    } else {
      const type = ma.types.get(s.targetObjectType ?? "");
      if (!type) throw new Error(`SyncRule ${rule.metadata.name}: object type '${s.targetObjectType}' is not declared by ${ma.name}`);
      const scope = { variable: "mv" as const };
      const flow = (f: { target: string; expression: string; initialOnly?: boolean; unique?: boolean }): CompiledOutboundFlow => {
        const attr = type.attributes.get(f.target);
        const unique = f.unique === true;
        return {
          target: f.target,
          expr: compileExpression(f.expression, unique ? { ...scope, variables: [ITERATION] } : scope),
          initialOnly: f.initialOnly === true,
          referenceTo: attr?.type === "reference" ? (attr.referenceTo ?? type.spec.name) : undefined,
          unique,
        };
      };
      const compiled: CompiledOutboundRule = {
        name: rule.metadata.name,
        ma: ma.name,
        targetType: type.spec.name,
        mvType: s.metaverseObjectType,
        precedence: s.precedence,
        scope: s.scope ? compileExpression(s.scope, scope) : undefined,
        provision: s.provision === true,
        dn: s.dn ? compileExpression(s.dn, scope) : undefined,
        deprovision: s.deprovision ?? "disconnect",
        deprovisionDN: s.deprovisionDN ? compileExpression(s.deprovisionDN, scope) : undefined,
        deprovisionFlows: (s.deprovisionFlows ?? []).map(flow),
        flows: (s.attributeFlows ?? []).map(flow),
      };
      ma.outbound.push(compiled);
      outbound.push(compiled);
    }
  }
  const byPrecedence = (a: { precedence: number; name: string }, b: { precedence: number; name: string }) =>
    a.precedence - b.precedence || a.name.localeCompare(b.name);
  for (const ma of mas.values()) {
    ma.inbound.sort(byPrecedence);
    ma.outbound.sort(byPrecedence);
  }
  outbound.sort((a, b) => a.ma.localeCompare(b.ma) || byPrecedence(a, b));
  const retention = new Map<string, CompiledRetention>();
  for (const p of config.retentionPolicies) {
    const dw = p.spec.deleteWhen;
    retention.set(p.spec.metaverseObjectType, {
      mvType: p.spec.metaverseObjectType,
      disconnectedFrom: new Set(dw?.disconnectedFrom ?? []),
      lastConnectorRemoved: dw?.lastConnectorRemoved ?? true,
    });
  }
  return { mas, inboundByName, outbound, retention };
}

/** The deletion rule for an MV type: MIM's default is "delete when the last connector is gone". */
export function retentionFor(config: CompiledConfig, mvType: string): CompiledRetention {
  return config.retention.get(mvType) ?? { mvType, disconnectedFrom: new Set(), lastConnectorRemoved: true };
}
