// Schema, then semantics: the whole validation of a set of resources, wherever they came from.
import type { AnyResource, ConfigError, ConfigSet, ManagementAgent, RetentionPolicy, SyncRule } from "./model.ts";
import { validateAgainstCrd } from "./schema.ts";
import { checkSemantics } from "./semantic.ts";
import { sortConfigErrors } from "./errors.ts";
import type { PathPolicy } from "./paths.ts";

export interface ValidateOptions {
  /**
   * Where the files the resources name (a CSV path) may lie: the CLI's configuration folder, the
   * operator's CSV roots. Absent: paths are not checked (a library caller that checks them itself).
   */
  paths?: PathPolicy;
  /**
   * Resources not to validate at all (the loader found them too big): known by kind and name only,
   * so what names them is not reported as unresolved. Their own error is the caller's.
   */
  unvalidated?: readonly AnyResource[];
}

/**
 * Validates resources (from files or from the Kubernetes API) against the CRDs — applying their
 * defaults in place — and then semantically. `config` is present only when there are no errors.
 */
export function validateResources(resources: AnyResource[], options: ValidateOptions = {}): { config?: ConfigSet; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const valid: AnyResource[] = [];
  const unvalidated: AnyResource[] = [];
  // No spread into push(): a hostile list yields one error per item, and a call with 100,000
  // arguments overflows the stack.
  const add = (list: ConfigError[]) => {
    for (const e of list) errors.push(e);
  };
  for (const r of resources) {
    const schemaErrors = validateAgainstCrd(r);
    add(schemaErrors);
    (schemaErrors.length === 0 ? valid : unvalidated).push(r);
  }
  add(checkSemantics(valid, { unvalidated: [...unvalidated, ...(options.unvalidated ?? [])], paths: options.paths }));
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
