// Which part of one namespace's declared set can be applied. Every namespace is an engine of its
// own (names are unique per namespace; a SyncRule's managementAgent and a RetentionPolicy's MAs
// resolve within it), so the operator partitions each namespace's resources apart and this module
// refuses a set that spans two. The set is validated at once (the same validation as `idsync
// validate`); resources with errors are left out, and so is everything that depends on them: a
// SyncRule of an invalid MA, a RetentionPolicy naming one, an outbound rule that only validated
// because a now-excluded inbound rule fed its metaverse type. What remains is validated again until
// it is clean, so the engine only ever receives a complete, valid ConfigSet.
//
// Verdicts: `InvalidSpec` — the resource's own errors against the whole declared set (the user must
// fix it); `DependencyNotReady` — it was fine until something it needs was left out.
//
// Last known good: a resource the engine already runs keeps its applied version while its new spec
// is invalid (then what depends on it stays too). And a change that is valid on its own but would
// leave an applied resource out (an MA dropping an attribute a rule reads) is held back instead
// (partition-guard.ts). Only deleting a resource unapplies it.
import { isDeepStrictEqual } from "node:util";
import { formatConfigError } from "../config/errors.ts";
import type { AnyResource, ConfigError, ConfigSet, ManagementAgent, RetentionPolicy, SyncRule } from "../config/model.ts";
import { validateResources, type ValidateOptions } from "../config/validate.ts";
import { holdBackChanges, type Item } from "./partition-guard.ts";

export type { Item };

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
  /** InvalidSpec only: the previously applied generation that stays in effect meanwhile. */
  appliedGeneration?: number;
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

/**
 * The applicable part of `declared`, all of one namespace. With `applied` (what the engine runs
 * now), a resource whose new spec is invalid keeps its applied version in effect — a typo in a pull
 * request must not unapply a rule (whose objects would then be deprovisioned) or an MA — while its
 * status reports the error; and a change that would leave an applied resource out is held back.
 */
export function partitionDeclared(declared: readonly AnyResource[], applied?: ConfigSet, options: PartitionOptions = {}): Partition {
  // Every validation below checks CSV paths against the operator's roots (options.paths).
  const partitionOnce = (all: Item[]) => partitionWith(all, options);
  const namespaces = new Set(declared.map((r) => r.metadata.namespace ?? ""));
  if (namespaces.size > 1) throw new Error(`one namespace's resources are partitioned at a time (got ${[...namespaces].sort().join(", ")})`);
  const appliedByName = new Map<string, AnyResource>();
  for (const r of [...(applied?.managementAgents ?? []), ...(applied?.syncRules ?? []), ...(applied?.retentionPolicies ?? [])]) {
    appliedByName.set(`${r.kind}/${r.metadata.name}`, r);
  }
  // Applied resources first: a conflict the validator pins on the later of two resources (a second
  // RetentionPolicy for one metaverse type) is then the newcomer's, not the incumbent's.
  const isApplied = (r: AnyResource) => appliedByName.has(`${r.kind}/${r.metadata.name}`);
  const items: Item[] = [...declared.filter(isApplied), ...declared.filter((r) => !isApplied(r))].map((r) => ({
    r: declaredCopy(r),
    key: resourceKey(r.kind, r.metadata.namespace, r.metadata.name),
  }));
  const first = partitionOnce(items);
  if (!applied) return build(first.remaining, first.verdicts);

  // The applied version of every resource still declared, in the declared resource's namespace.
  const appliedItems = new Map<string, Item>();
  for (const x of items) {
    const old = appliedByName.get(`${x.r.kind}/${x.r.metadata.name}`);
    if (!old) continue;
    const copy = declaredCopy(old);
    copy.metadata.namespace = x.r.metadata.namespace;
    appliedItems.set(x.key, { r: copy, key: x.key });
  }
  const candidates: Item[] = [];
  const fallbacks = new Map<string, number | undefined>();
  for (const x of items) {
    if (first.verdicts.get(x.key)!.reason !== "InvalidSpec") {
      candidates.push(x); // valid, or fine on its own: may do once its dependency falls back
      continue;
    }
    const old = appliedItems.get(x.key);
    if (!old) continue;
    candidates.push(old);
    fallbacks.set(x.key, old.r.metadata.generation);
  }
  const second = fallbacks.size === 0 ? first : partitionOnce(candidates);
  const guarded = holdBackChanges(candidates, appliedItems, second, partitionOnce);
  const final = guarded ? partitionOnce(guarded.items) : second;
  const held = guarded?.held ?? new Map<string, string>();

  const verdicts = new Map<string, Verdict>();
  const included = new Set(final.remaining.map((x) => x.key));
  for (const x of items) {
    const v = first.verdicts.get(x.key)!;
    const kept = included.has(x.key);
    const why = held.get(x.key);
    // A resource running exactly as declared is not to blame for a conflict a change brought in (a
    // rule whose MA's change was held back, an incumbent of a duplicate precedence): the change is.
    const asDeclared = kept && isDeepStrictEqual(appliedItems.get(x.key)?.r.spec, x.r.spec);
    if (why !== undefined || (v.reason === "InvalidSpec" && !asDeclared)) {
      const generation = fallbacks.get(x.key) ?? appliedItems.get(x.key)?.r.metadata.generation;
      const note = kept ? ` (generation ${generation ?? "?"} stays applied until this is fixed)` : "";
      const base = why !== undefined ? { ...v, valid: false, reason: "InvalidSpec" as const, message: why } : v;
      verdicts.set(x.key, { ...base, message: trim(base.message, MAX_MESSAGE - note.length) + note, appliedGeneration: kept ? generation : undefined });
    } else if (kept) {
      verdicts.set(x.key, { ...v, valid: true, reason: "Valid", message: "" });
    } else {
      const w = final.verdicts.get(x.key);
      verdicts.set(x.key, v.reason === "DependencyNotReady" || !w ? v : { ...w, reason: "DependencyNotReady", valid: false });
    }
  }
  return build(final.remaining, verdicts);
}

function trim(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function build(remaining: Item[], verdicts: Map<string, Verdict>): Partition {
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

/** What the validation of a declared set takes beyond the resources: where CSV files may lie. */
export type PartitionOptions = Pick<ValidateOptions, "paths">;

/** One validation of a set: InvalidSpec for own errors, DependencyNotReady for what falls with them. */
export function partitionOnce(all: Item[]): { remaining: Item[]; verdicts: Map<string, Verdict> } {
  return partitionWith(all, {});
}

function partitionWith(all: Item[], options: PartitionOptions): { remaining: Item[]; verdicts: Map<string, Verdict> } {
  const verdicts = new Map<string, Verdict>();
  const verdict = (x: Item, reason: VerdictReason, message: string) =>
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
    const { errors } = validateResources(
      remaining.map((x) => x.r),
      options,
    );
    if (errors.length === 0) break;
    // Errors name kind and name only: enough, as the set is one namespace's.
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
  return { remaining, verdicts };
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
