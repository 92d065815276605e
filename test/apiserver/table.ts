// Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table, and for custom resources the
// real server fills it from the CRD's additionalPrinterColumns (JSONPath per column), so
// `kubectl get managementagents` shows the same columns here as in a cluster.
import type { KObject } from "./resources.ts";

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

/** CRDs without printer columns get Age, as in the real server. */
export const DEFAULT_COLUMNS: PrinterColumn[] = [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }];

type Step = { field: string } | { index: number | "*" } | { filter: { path: string[]; value: string } };

/** The JSONPath subset printer columns use: `.a.b`, `[0]`, `[*]`, `[?(@.type=="Ready")]`. */
function compilePath(jsonPath: string): Step[] {
  const steps: Step[] = [];
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+|\*)\]|\[\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*==\s*["']([^"']*)["']\)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(jsonPath.replace(/^\{|\}$/g, "")))) {
    if (m[1] !== undefined) steps.push({ field: m[1] });
    else if (m[2] !== undefined) steps.push({ index: m[2] === "*" ? "*" : Number(m[2]) });
    else steps.push({ filter: { path: m[3].slice(1).split("."), value: m[4] } });
  }
  return steps;
}

function evaluate(obj: unknown, steps: Step[]): unknown[] {
  let current: unknown[] = [obj];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if ("field" in step) {
        if (v && typeof v === "object" && !Array.isArray(v) && step.field in v) next.push((v as Record<string, unknown>)[step.field]);
      } else if ("index" in step) {
        if (Array.isArray(v)) {
          if (step.index === "*") next.push(...v);
          else if (step.index < v.length) next.push(v[step.index]);
        }
      } else if (Array.isArray(v)) {
        for (const item of v) {
          let probe: unknown = item;
          for (const p of step.filter.path) probe = probe && typeof probe === "object" ? (probe as Record<string, unknown>)[p] : undefined;
          if (String(probe) === step.filter.value) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

/** Go's duration.HumanDuration, which the server uses for `date` cells ("5m", "3h2m", "4d"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

/** A cell typed as the column says; a value of another type shows as empty, as in the real server. */
function typedCell(type: string, value: unknown): unknown {
  switch (type) {
    case "date": {
      if (typeof value !== "string") return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? "<invalid>" : humanDuration(Date.now() - t);
    }
    case "integer":
      return Number.isInteger(value) ? value : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "string":
      return typeof value === "string" ? value : null;
    default:
      return typeof value === "object" && value !== null ? JSON.stringify(value) : value;
  }
}

function cell(obj: KObject, column: PrinterColumn): unknown {
  const values = evaluate(obj, compilePath(column.jsonPath));
  if (values.length === 0) return null;
  if (values.length === 1) return typedCell(column.type, values[0]);
  return values.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(" ");
}

/** `includeObject`: None, Metadata (the default: PartialObjectMetadata) or Object. */
export function toTable(
  objects: KObject[],
  columns: PrinterColumn[],
  listMeta: Record<string, unknown>,
  includeObject: string | null,
): Record<string, unknown> {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: [
      { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
      ...columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? "", description: c.description ?? "", priority: c.priority ?? 0 })),
    ],
    rows: objects.map((o) => ({
      cells: [o.metadata.name, ...columns.map((c) => cell(o, c))],
      object:
        includeObject === "None"
          ? undefined
          : includeObject === "Object"
            ? o
            : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}

/** Whether an Accept header asks for a Table (kubectl get does). */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}
