// The GitOps package's public surface: plan and drift reports, their renderers, the config diff.
export { plan, type PlanOptions } from "./plan.ts";
export { drift, type DriftOptions } from "./drift.ts";
export { diffResources, comparable, type ComparableResource } from "./diff.ts";
export { readClusterResources, type ClusterOptions } from "./cluster.ts";
export { renderPlanText, renderDriftText } from "./render/text.ts";
export { renderPlanMarkdown, renderDriftMarkdown, MARKDOWN_LIMIT } from "./render/markdown.ts";
export { renderJson, PLAN_SCHEMA_URL, DRIFT_SCHEMA_URL, VALIDATE_SCHEMA_URL } from "./render/json.ts";
export { renderValidation, type Validation, type ValidateFormat } from "./render/validate.ts";
export * from "./model.ts";

/** Exit codes of plan and drift (a contract, documented in `idsync plan --help`): */
export const EXIT_NO_CHANGES = 0;
export const EXIT_ERROR = 1;
export const EXIT_CHANGES = 2;

export function exitCodeFor(report: { summary: { changes: boolean } }, exitZero = false): number {
  return report.summary.changes && !exitZero ? EXIT_CHANGES : EXIT_NO_CHANGES;
}
