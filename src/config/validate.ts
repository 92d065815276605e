// Schema, then semantics: the whole validation of a set of resources, wherever they came from.
import type { AnyResource, ConfigError, ConfigSet, ManagementAgent, RetentionPolicy, SyncRule } from "./model.ts";
import { validateAgainstCrd } from "./schema.ts";
import { checkSemantics } from "./semantic.ts";
import { sortConfigErrors } from "./errors.ts";

/**
 * Validates resources (from files or from the Kubernetes API) against the CRDs — applying their
 * defaults in place — and then semantically. `config` is present only when there are no errors.
 */
export function validateResources(resources: AnyResource[]): { config?: ConfigSet; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const valid: AnyResource[] = [];
  const unvalidated: AnyResource[] = [];
  for (const r of resources) {
    const schemaErrors = validateAgainstCrd(r);
    errors.push(...schemaErrors);
    (schemaErrors.length === 0 ? valid : unvalidated).push(r);
  }
  errors.push(...checkSemantics(valid, { unvalidated }));
  if (errors.length > 0) return { errors: sortConfigErrors(errors) };
  return {
    errors,
    config: {
      managementAgents: valid.filter((r): r is ManagementAgent => r.kind === "ManagementAgent"),
      syncRules: valid.filter((r): r is SyncRule => r.kind === "SyncRule"),
      retentionPolicies: valid.filter((r): r is RetentionPolicy => r.kind === "RetentionPolicy"),
    },
  };
}
