// Which export operations may run at the same time on the one connection.
//
// OpenLDAP works on pipelined requests concurrently, so their order on the wire is not the order
// in which they take effect. Operations that depend on each other must therefore wait: two whose
// DNs are equal or one above the other (a parent and its child, a rename and a later modify of the
// same entry, a delete of a parent after its children) or where one references the other's DN (a
// group and its new member). Everything else runs side by side, up to a window.
import { normalizeDN, normalizedLineage } from "./dn.ts";
import type { AttrValue, ExportOperation } from "../types.ts";
import type { LdapTypePlan } from "./settings.ts";

/** What an operation touches: its DNs (each with its ancestors) and the DNs it references. */
export interface Footprint {
  /** For each DN the operation touches (dn, newDn): the normalized DN and its ancestors. */
  lineages: string[][];
  refs: Set<string>;
  /** The DN is not known (addressed by anchor only, or malformed): runs alone. */
  unknown: boolean;
}

export function footprint(op: ExportOperation, plan: LdapTypePlan | undefined): Footprint {
  const refs = new Set<string>();
  try {
    const lineages: string[][] = [];
    if (op.dn) lineages.push(normalizedLineage(op.dn));
    if (op.op === "update" && op.newDn) lineages.push(normalizedLineage(op.newDn));
    const refNames = new Set((plan?.attributes ?? []).filter((a) => a.type === "reference").map((a) => a.name.toLowerCase()));
    const addRefs = (v: AttrValue | undefined) => {
      for (const x of v === null || v === undefined ? [] : Array.isArray(v) ? v : [v]) {
        try {
          refs.add(normalizeDN(String(x)));
        } catch {
          /* not a DN: no ordering constraint */
        }
      }
    };
    if (refNames.size > 0 && op.op === "add") {
      for (const [k, v] of Object.entries(op.attrs)) if (refNames.has(k.toLowerCase())) addRefs(v);
    }
    if (refNames.size > 0 && op.op === "update") {
      for (const [k, c] of Object.entries(op.changes)) if (refNames.has(k.toLowerCase())) addRefs(c.replace);
    }
    return { lineages, refs, unknown: lineages.length === 0 };
  } catch {
    return { lineages: [], refs, unknown: true };
  }
}

class Counter {
  private readonly m = new Map<string, number>();
  add(k: string): void {
    this.m.set(k, (this.m.get(k) ?? 0) + 1);
  }
  remove(k: string): void {
    const n = (this.m.get(k) ?? 0) - 1;
    if (n <= 0) this.m.delete(k);
    else this.m.set(k, n);
  }
  has(k: string): boolean {
    return this.m.has(k);
  }
}

/** The operations in flight, indexed so that "must this one wait?" costs a few lookups. */
export class InFlight {
  size = 0;
  private unknown = 0;
  /** DNs of in-flight operations. */
  private readonly dns = new Counter();
  /** Every ancestor-or-self of DNs of in-flight operations. */
  private readonly covered = new Counter();
  /** DNs referenced by in-flight operations. */
  private readonly refs = new Counter();

  mustWait(fp: Footprint): boolean {
    if (fp.unknown) return this.size > 0;
    if (this.unknown > 0) return true;
    for (const lineage of fp.lineages) {
      const self = lineage[0];
      if (this.covered.has(self) || this.refs.has(self)) return true; // at or above an in-flight DN, or referenced
      if (lineage.some((a) => this.dns.has(a))) return true; // an in-flight DN is at or above this one
    }
    for (const r of fp.refs) if (this.dns.has(r)) return true;
    return false;
  }

  add(fp: Footprint): void {
    this.size++;
    if (fp.unknown) this.unknown++;
    for (const lineage of fp.lineages) {
      this.dns.add(lineage[0]);
      for (const a of lineage) this.covered.add(a);
    }
    for (const r of fp.refs) this.refs.add(r);
  }

  remove(fp: Footprint): void {
    this.size--;
    if (fp.unknown) this.unknown--;
    for (const lineage of fp.lineages) {
      this.dns.remove(lineage[0]);
      for (const a of lineage) this.covered.remove(a);
    }
    for (const r of fp.refs) this.refs.remove(r);
  }
}
