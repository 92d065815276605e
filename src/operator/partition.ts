// Which part of the declared set can be applied. The whole set is validated at once (the same
// validation as `idsync validate`); resources with errors are left out, and so is everything that
// depends on them: a SyncRule of an invalid MA, a RetentionPolicy naming one, an outbound rule that
// only validated because a now-excluded inbound rule fed its metaverse type. What remains is
// validated again until it is clean, so the engine only ever receives a complete, valid ConfigSet.
//
// Verdicts: `InvalidSpec` — the resource's own errors against the whole declared set (the user must
// fix it); `DependencyNotReady` — it was fine until something it needs was left out.
import { formatConfigError } from "../config/errors.ts";
import type { AnyResource, ConfigError, ConfigSet, ManagementAgent, RetentionPolicy, SyncRule } from "../config/model.ts";
import { validateResources } from "../config/validate.ts";

export type VerdictReason = "Valid" | "InvalidSpec" | "DependencyNotReady";

export interface Verdict {
  key: string;
  kind: AnyResource["kind"];
  namespace?: string;
  name: string;
  generation?: number;
  valid: boolean;
  reason: VerdictReason;
  message: string;
}

export interface Partition {
  /** The applicable subset (defaults applied), in a stable order. */
  config: ConfigSet;
  verdicts: Map<string, Verdict>;
}

/** The key the operator uses for a resource everywhere (work queue, verdicts, status). */
export function resourceKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ""}/${name}`;
}

const MAX_MESSAGE = 1024;

function messageOf(errors: ConfigError[], prefix = ""): string {
  const text = prefix + errors.map((e) => formatConfigError({ ...e, kind: undefined, name: undefined })).join("; ");
  return text.length > MAX_MESSAGE ? text.slice(0, MAX_MESSAGE - 1) + "…" : text;
}

/** The engine's view of a resource read from the API: spec and identity, no status or server fields. */
export function declaredCopy<R extends AnyResource>(r: R): R {
  const m = r.metadata;
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name: m.name, namespace: m.namespace, generation: m.generation },
    spec: structuredClone(r.spec),
  } as R;
}

export function partitionDeclared(declared: readonly AnyResource[]): Partition {
  const all = declared.map((r) => ({ r: declaredCopy(r), key: resourceKey(r.kind, r.metadata.namespace, r.metadata.name) }));
  const verdicts = new Map<string, Verdict>();
  const verdict = (x: (typeof all)[number], reason: VerdictReason, message: string) =>
    verdicts.set(x.key, {
      key: x.key,
      kind: x.r.kind,
      namespace: x.r.metadata.namespace,
      name: x.r.metadata.name,
      generation: x.r.metadata.generation,
      valid: reason === "Valid",
      reason,
      message,
    });

  let remaining = all;
  for (let round = 0; remaining.length > 0; round++) {
    const { errors } = validateResources(remaining.map((x) => x.r));
    if (errors.length === 0) break;
    // Errors name kind and name only (no namespace): a name shared across namespaces marks all of them.
    const byResource = new Map<string, ConfigError[]>();
    const unattributed: ConfigError[] = [];
    for (const e of errors) {
      if (!e.kind || !e.name) unattributed.push(e);
      else byResource.set(`${e.kind}/${e.name}`, [...(byResource.get(`${e.kind}/${e.name}`) ?? []), e]);
    }
    const excluded = new Set<string>();
    for (const x of remaining) {
      const own = byResource.get(`${x.r.kind}/${x.r.metadata.name}`);
      if (!own) continue;
      excluded.add(x.key);
      if (round === 0) verdict(x, "InvalidSpec", messageOf(own));
      else verdict(x, "DependencyNotReady", messageOf(own, "invalid without the resources that are not ready: "));
    }
    if (excluded.size === 0) {
      // Nothing to blame: apply nothing rather than something half-checked.
      for (const x of remaining) verdict(x, round === 0 ? "InvalidSpec" : "DependencyNotReady", messageOf(unattributed));
      remaining = [];
      break;
    }
    remaining = remaining.filter((x) => !excluded.has(x.key));
    remaining = cascade(remaining, all, verdicts, verdict);
  }
  for (const x of remaining) verdict(x, "Valid", "");
  const config: ConfigSet = {
    managementAgents: remaining.map((x) => x.r).filter((r): r is ManagementAgent => r.kind === "ManagementAgent"),
    syncRules: remaining.map((x) => x.r).filter((r): r is SyncRule => r.kind === "SyncRule"),
    retentionPolicies: remaining.map((x) => x.r).filter((r): r is RetentionPolicy => r.kind === "RetentionPolicy"),
  };
  for (const list of [config.managementAgents, config.syncRules, config.retentionPolicies] as AnyResource[][]) {
    list.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  }
  return { config, verdicts };
}

/** Drops resources that name an MA which is declared but excluded; repeats until nothing more drops. */
function cascade<X extends { r: AnyResource; key: string }>(
  remaining: X[],
  all: X[],
  verdicts: Map<string, Verdict>,
  verdict: (x: X, reason: VerdictReason, message: string) => void,
): X[] {
  const kept = new Set(remaining.filter((x) => x.r.kind === "ManagementAgent").map((x) => x.r.metadata.name));
  const notReady = new Map<string, Verdict>();
  for (const x of all) {
    const v = verdicts.get(x.key);
    if (x.r.kind === "ManagementAgent" && v && !kept.has(x.r.metadata.name)) notReady.set(x.r.metadata.name, v);
  }
  return remaining.filter((x) => {
    const needs =
      x.r.kind === "SyncRule"
        ? [(x.r.spec as { managementAgent?: unknown }).managementAgent]
        : x.r.kind === "RetentionPolicy"
          ? ((x.r.spec as RetentionPolicy["spec"]).deleteWhen?.disconnectedFrom ?? [])
          : [];
    const missing = needs.filter((n): n is string => typeof n === "string" && notReady.has(n));
    if (missing.length === 0) return true;
    const why = missing.map((n) => `ManagementAgent '${n}' is not ready (${notReady.get(n)!.reason})`).join("; ");
    verdict(x, "DependencyNotReady", why);
    return false;
  });
}
