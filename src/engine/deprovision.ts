// Deprovisioning one connector whose metaverse object left the scope of every outbound rule of its
// MA (or was deleted), as the first rule for its metaverse type declares. Pure: returns what to
// write; outbound.ts unlinks the connector and writes.
// An object whose add was never exported — its pending export is an add, pending or failed
// ('error'), and no import has ever seen the object — is not in the target: there is nothing to
// delete, disable, move or disconnect, whatever the action. Its pending add and the connector-space
// object go, and nothing is sent. An add exported but not confirmed yet ('unconfirmed') may have
// landed: it takes the declared action like any object in the target.
//   delete     — a pending delete;
//   disable    — the deprovisionFlows' values, and with deprovisionDN a move (modDN) to that DN,
//                in one pending update. Without deprovisionDN the rule's `dn` still applies;
//   disconnect — nothing is sent; a pending export not sent yet is dropped.
// The object is unlinked in every case: nothing recomputes it while it stays out of scope, so
// the DN it was moved to stays. When it comes back in scope it is adopted again (provision.ts,
// formerConnectors), and the rule's `dn` and flows move it back and re-enable it.
import type { Attributes } from "../expr/index.ts";
import type { CsRow, MvRow, PendingExportRow } from "../store/index.ts";
import { computeTargetValues, diffTarget, expectedDn, expectedState, isEmptyDiff, type OutboundGroup } from "./export-flow.ts";

export type DeprovisionStep =
  | { kind: "write"; op: "delete" | "update"; newDn: string | null; changes: Attributes }
  /** Never exported (a pending or failed add): the connector-space object goes, nothing is sent. */
  | { kind: "remove" }
  /** Drop a pending export not sent yet. */
  | { kind: "drop" }
  | { kind: "none" };

/** Throws ObjectRuleError when an expression fails for this object (the caller records it). */
export function deprovisionStep(group: OutboundGroup, mv: MvRow, connector: CsRow, pe: PendingExportRow | undefined): DeprovisionStep {
  const rule = group.rules.find((r) => r.mvType === mv.object_type)!;
  if (connector.imported_at === null && pe?.op === "add" && pe.state !== "unconfirmed") return { kind: "remove" };
  if (rule.deprovision === "delete") return { kind: "write", op: "delete", newDn: null, changes: {} };
  if (rule.deprovision === "disable") {
    const t = computeTargetValues([rule], mv.attrs, {
      initial: false,
      flows: (r) => r.deprovisionFlows,
      dn: (r) => r.deprovisionDN ?? r.dn,
    });
    // A DN the system does not know (a CSV row) is not moved.
    const d = diffTarget(t, expectedState(connector, pe), expectedDn(connector, pe), group.referenceBy);
    if (isEmptyDiff(d)) return { kind: "none" };
    return { kind: "write", op: "update", newDn: d.newDn ?? null, changes: d.changes };
  }
  return pe && pe.state !== "unconfirmed" ? { kind: "drop" } : { kind: "none" };
}
