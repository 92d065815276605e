// The second half of "last known good": a change that is valid on its own can still leave an
// applied resource out — an MA that drops an attribute a rule reads makes the (unchanged) rule
// invalid, and the rule would be unapplied, its objects disconnected and deprovisioned by the next
// sync. The README promises that an invalid change never unapplies what is applied, so such a change
// is held back instead: the resource it would break stays applied, and so does the changed
// resource's applied version, while its status says which resource it would break and why.
//
// Which changes to hold back is found greedily, in a stable order (kind, then name): starting from
// the applied versions, each change is taken if everything applied still validates with it, and the
// ones left are tried again while any is taken (a rule's change may be what makes an MA's change
// fit). Only resources that survive on their applied versions alone are protected: deleting an MA
// or an inbound rule still takes what depends on it along, as deleting means.
import { isDeepStrictEqual } from "node:util";
import type { AnyResource } from "../config/model.ts";
import type { Verdict } from "./partition.ts";

export type Item = { r: AnyResource; key: string };

export interface Outcome {
  remaining: Item[];
  verdicts: Map<string, Verdict>;
}

export interface HeldBack {
  /** The set to apply: applied versions, with the changes that were taken. */
  items: Item[];
  /** Changes held back, by key, with the reason shown in their status. */
  held: Map<string, string>;
}

/** Trials at most: each is a validation of the whole namespace's set. */
const MAX_TRIALS = 64;
const KIND_ORDER = ["ManagementAgent", "SyncRule", "RetentionPolicy"];

function byKindAndName(a: Item, b: Item): number {
  return KIND_ORDER.indexOf(a.r.kind) - KIND_ORDER.indexOf(b.r.kind) || (a.r.metadata.name < b.r.metadata.name ? -1 : a.r.metadata.name > b.r.metadata.name ? 1 : 0);
}

/**
 * Undefined when `outcome` (the partition of `candidates`) keeps every applied resource that its
 * applied version alone would keep; otherwise the set to apply instead, and what was held back.
 */
export function holdBackChanges(candidates: Item[], applied: Map<string, Item>, outcome: Outcome, check: (items: Item[]) => Outcome): HeldBack | undefined {
  const included = new Set(outcome.remaining.map((x) => x.key));
  if ([...applied.keys()].every((k) => included.has(k))) return undefined;
  const protectedKeys = check([...applied.values()]).remaining.map((x) => x.key);
  if (protectedKeys.every((k) => included.has(k))) return undefined;

  const changes = candidates
    .filter((x) => {
      const old = applied.get(x.key);
      return !old || !isDeepStrictEqual(old.r.spec, x.r.spec);
    })
    .sort(byKindAndName);
  const lostWith = (set: Map<string, Item>) => {
    const r = check([...set.values()]);
    const kept = new Set(r.remaining.map((x) => x.key));
    // What the change breaks itself first, then what falls with it.
    const direct = (k: string) => (r.verdicts.get(k)?.reason === "InvalidSpec" ? 0 : 1);
    const lost = protectedKeys.filter((k) => !kept.has(k)).sort((a, b) => direct(a) - direct(b));
    return { lost, verdicts: r.verdicts };
  };

  let current = new Map(applied);
  let pending = changes;
  const reasons = new Map<string, string>();
  let trials = 0;
  for (let progress = true; progress && pending.length > 0; ) {
    progress = false;
    const left: Item[] = [];
    for (const change of pending) {
      if (trials >= MAX_TRIALS) {
        left.push(change);
        continue;
      }
      trials++;
      const trial = new Map(current).set(change.key, change);
      const { lost, verdicts } = lostWith(trial);
      if (lost.length === 0) {
        current = trial;
        progress = true;
      } else {
        left.push(change);
        reasons.set(change.key, `not applied: this change would unapply ${lost.map((k) => describe(k, verdicts)).join("; ")}`);
      }
    }
    pending = left;
  }
  const held = new Map(
    pending.map((c) => [c.key, reasons.get(c.key) ?? "not applied: too many changes at once leave applied resources out; apply them in smaller steps"]),
  );
  return { items: [...current.values()], held };
}

function describe(key: string, verdicts: Map<string, Verdict>): string {
  const v = verdicts.get(key);
  return v ? `${v.kind} '${v.name}' (${v.message})` : key;
}
