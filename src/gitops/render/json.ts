// JSON reports: the report objects as they are, described by the schemas in ../schema/.
import type { DriftReport, PlanReport } from "../model.ts";

export const PLAN_SCHEMA_URL = new URL("../schema/plan.schema.json", import.meta.url);
export const DRIFT_SCHEMA_URL = new URL("../schema/drift.schema.json", import.meta.url);
export const VALIDATE_SCHEMA_URL = new URL("../schema/validate.schema.json", import.meta.url);

export function renderJson(report: PlanReport | DriftReport | object): string {
  return JSON.stringify(report, null, 2) + "\n";
}
