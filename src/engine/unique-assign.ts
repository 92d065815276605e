// Unique values (unique.ts) for the target objects of an outbound batch: builds one request per
// object and unique attribute, with what the object already has or is about to receive, asks the
// store who holds the candidates, and writes the decided values into the objects' target values.
import type { AttrValue, Attributes } from "../expr/index.ts";
import { uniqueValueHolders, type CsRow, type PendingExportRow, type Queryable } from "../store/index.ts";
import type { TargetValues } from "./export-flow.ts";
import type { ObjectRuleError } from "./inbound.ts";
import { resolveUnique, type HolderLookup, type UniqueClaims, type UniqueRequest } from "./unique.ts";

export interface UniqueTarget {
  mvId: number;
  ma: string;
  targetType: string;
  /** The metaverse object's attributes (what the expressions read). */
  attrs: Attributes;
  values: TargetValues;
  /** The target object, when it exists (connected or adopted), and its pending export. */
  connector?: CsRow;
  pe?: PendingExportRow;
}

/** What an object has or is about to receive in one attribute: the pending value first. */
export function currentValues(attribute: string, connector: CsRow | undefined, pe: PendingExportRow | undefined): AttrValue[] {
  const out: AttrValue[] = [];
  if (pe && pe.op !== "delete" && Object.hasOwn(pe.changes, attribute)) out.push(pe.changes[attribute]);
  if (connector && Object.hasOwn(connector.attrs, attribute)) out.push(connector.attrs[attribute]);
  return out;
}

/**
 * Decides every unique value of these targets and writes it into `values`. Returns the targets that
 * got none, with the error (the caller records it and leaves the object alone in this sync).
 */
export async function assignUniqueValues<T extends UniqueTarget>(tx: Queryable, targets: T[], claims: UniqueClaims): Promise<Map<T, ObjectRuleError>> {
  const requests: Array<{ t: T; req: UniqueRequest }> = [];
  for (const t of targets) {
    for (const [attribute, { rule, flow }] of t.values.unique) {
      requests.push({
        t,
        req: {
          mvId: t.mvId,
          csId: t.connector?.id,
          ma: t.ma,
          objectType: t.targetType,
          attribute,
          rule: rule.name,
          flow,
          attrs: t.attrs,
          current: currentValues(attribute, t.connector, t.pe),
        },
      });
    }
  }
  const failed = new Map<T, ObjectRuleError>();
  if (requests.length === 0) return failed;
  const outcomes = await resolveUnique(requests.map((r) => r.req), holderLookup(tx), claims);
  for (const { t, req } of requests) {
    const o = outcomes.get(req)!;
    if ("error" in o) {
      if (!failed.has(t)) failed.set(t, o.error);
    } else t.values.values[req.attribute] = o.value;
  }
  return failed;
}

function holderLookup(tx: Queryable): HolderLookup {
  return async (ma, objectType, attribute, values) => {
    const out = new Map<string, number[]>();
    for (const h of await uniqueValueHolders(tx, ma, objectType, attribute, values)) out.set(h.value, [...(out.get(h.value) ?? []), h.cs_id]);
    return out;
  };
}
