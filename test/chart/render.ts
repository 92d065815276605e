// Renders charts/idsync the way `helm template` would (for the template subset in gotemplate.ts):
// values.yaml deep-merged with overrides, .Release / .Chart set, _*.tpl files providing defines,
// every other template rendered and split into YAML documents. Also: the RBAC rules the chart
// grants the operator's service account, in the form the test API server enforces.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import yaml from "js-yaml";
import { parseTemplate, renderTemplate, type Defines } from "./gotemplate.ts";
import type { PolicyRule } from "../../src/operator/rbac-needs.ts";

export const CHART_DIR = fileURLToPath(new URL("../../charts/idsync/", import.meta.url));

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

export interface RenderOptions {
  values?: Record<string, unknown>;
  releaseName?: string;
  namespace?: string;
}

export interface RenderedChart {
  /** Rendered text per template file (templates/x.yaml). */
  files: Map<string, string>;
  documents: K8sObject[];
  notes: string;
  values: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Helm's coalescing: maps merge recursively, everything else (lists too) is replaced; null deletes. */
export function mergeValues(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(out[k])) out[k] = mergeValues(out[k] as Record<string, unknown>, v);
    else out[k] = v;
  }
  return out;
}

export function defaultValues(): Record<string, unknown> {
  return yaml.load(readFileSync(join(CHART_DIR, "values.yaml"), "utf8")) as Record<string, unknown>;
}

export function renderChart(opts: RenderOptions = {}): RenderedChart {
  const chart = yaml.load(readFileSync(join(CHART_DIR, "Chart.yaml"), "utf8")) as Record<string, unknown>;
  const values = mergeValues(defaultValues(), opts.values ?? {});
  const root = {
    Values: values,
    Release: { Name: opts.releaseName ?? "idsync", Namespace: opts.namespace ?? "idsync-system", Service: "Helm", IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const dir = join(CHART_DIR, "templates");
  const names = readdirSync(dir).sort();
  const defines: Defines = new Map();
  const parsed = new Map<string, ReturnType<typeof parseTemplate>>();
  for (const name of names) parsed.set(name, parseTemplate(readFileSync(join(dir, name), "utf8"), `templates/${name}`, defines));
  const files = new Map<string, string>();
  const documents: K8sObject[] = [];
  let notes = "";
  for (const name of names) {
    if (name.startsWith("_")) continue;
    const text = renderTemplate(parsed.get(name)!, root, defines, `templates/${name}`);
    if (name === "NOTES.txt") {
      notes = text;
      continue;
    }
    files.set(name, text);
    for (const doc of yaml.loadAll(text, undefined, { filename: `templates/${name}` })) {
      if (doc !== null && doc !== undefined) documents.push(doc as K8sObject);
    }
  }
  return { files, documents, notes, values };
}

export function find(docs: K8sObject[], kind: string, name?: string): K8sObject[] {
  return docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
}

export interface ChartRbac {
  /** Rules of ClusterRoles bound (ClusterRoleBinding) to the operator's service account. */
  clusterRules: PolicyRule[];
  /** Rules of Roles bound (RoleBinding) to it, per namespace. */
  roleRules: Array<{ namespace: string; rules: PolicyRule[] }>;
  serviceAccount: { name: string; namespace: string };
}

/** What the rendered chart lets its service account do, following the bindings. */
export function chartRbac(opts: RenderOptions = {}): ChartRbac {
  const { documents } = renderChart(opts);
  const sa = find(documents, "ServiceAccount")[0];
  if (!sa) throw new Error("the chart renders no ServiceAccount");
  const subjectIsSa = (b: K8sObject) =>
    (b.subjects ?? []).some((s: { kind: string; name: string; namespace?: string }) => s.kind === "ServiceAccount" && s.name === sa.metadata.name && s.namespace === sa.metadata.namespace);
  const rulesOf = (kind: string, name: string, namespace?: string) => {
    const role = documents.find((d) => d.kind === kind && d.metadata.name === name && (kind === "ClusterRole" || d.metadata.namespace === namespace));
    if (!role) throw new Error(`binding refers to missing ${kind} ${name}`);
    return (role.rules ?? []) as PolicyRule[];
  };
  const clusterRules: PolicyRule[] = [];
  const roleRules: Array<{ namespace: string; rules: PolicyRule[] }> = [];
  for (const b of find(documents, "ClusterRoleBinding").filter(subjectIsSa)) clusterRules.push(...rulesOf(b.roleRef.kind, b.roleRef.name));
  for (const b of find(documents, "RoleBinding").filter(subjectIsSa)) {
    roleRules.push({ namespace: b.metadata.namespace!, rules: rulesOf(b.roleRef.kind, b.roleRef.name, b.metadata.namespace) });
  }
  return { clusterRules, roleRules, serviceAccount: { name: sa.metadata.name, namespace: sa.metadata.namespace! } };
}
