// Join before provisioning. When an MV object is about to be provisioned into an MA, that MA's own
// inbound join rules (e.g. a join-only rule on a directory: employeeNumber = mv.employeeId) are
// tried first against the MA's unjoined objects, exactly as a sync of that MA would try them. An
// object they match is adopted (joined) instead of a duplicate being created next to it.
//
// Without this, the order of runs decides: the source MA's sync provisions at once, so an entry
// that already exists in the target would only be looked at by the target's own sync, after the
// duplicate was made. MIM admins work around it by disabling provisioning for the first load.
import type { Attributes } from "../expr/index.ts";
import { CS_COLUMNS, joinCandidates, mvIdsConnectedIn, type CsRow, type Queryable } from "../store/index.ts";
import { isFiltered, joinKeys, ObjectRuleError, rulesInScope } from "./inbound.ts";
import type { CompiledMA } from "./rules.ts";
import type { RunRecorder } from "./run.ts";
import { valueList } from "./values.ts";

export interface ProvisionCandidate {
  mvId: number;
  mvType: string;
  attrs: Attributes;
  ma: CompiledMA;
  targetType: string;
}

/**
 * For MV objects about to be provisioned: the unjoined target object each would be joined to by the
 * target MA's join rules, keyed by adoptionKey. Ambiguous matches are recorded as errors and adopt nothing.
 */
export async function joinableTargets(tx: Queryable, candidates: ProvisionCandidate[], run: RunRecorder): Promise<Map<string, CsRow>> {
  const out = new Map<string, CsRow>();
  const groups = new Map<string, ProvisionCandidate[]>();
  for (const c of candidates) {
    const key = `${c.ma.name}\u0000${c.targetType}\u0000${c.mvType}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const group of groups.values()) {
    const { ma, targetType, mvType } = group[0];
    const rules = ma.inbound.filter((r) => r.sourceType === targetType && r.mvType === mvType && r.join.length > 0);
    if (rules.length === 0) continue;
    for (const [mvId, row] of await matchGroup(tx, ma, targetType, mvType, rules, group, run)) out.set(adoptionKey(ma.name, targetType, mvId), row);
  }
  return out;
}

export function adoptionKey(ma: string, targetType: string, mvId: number): string {
  return `${ma}\u0000${targetType}\u0000${mvId}`;
}

async function matchGroup(
  tx: Queryable,
  ma: CompiledMA,
  targetType: string,
  mvType: string,
  rules: CompiledMA["inbound"],
  group: ProvisionCandidate[],
  run: RunRecorder,
): Promise<Map<number, CsRow>> {
  const rows = await unjoinedCandidates(tx, ma, targetType, rules, group);
  if (rows.length === 0) return new Map();
  // Each row's join keys, as the target MA's sync would compute them.
  const keyed: Array<{ row: CsRow; keys: ReturnType<typeof joinKeys> }> = [];
  for (const row of rows) {
    try {
      if (isFiltered(ma, row.attrs)) continue;
      const inScope = rulesInScope(ma, row.object_type, row.attrs).filter((r) => r.mvType === mvType);
      const keys = joinKeys(inScope, row.attrs);
      if (keys.length > 0) keyed.push({ row, keys });
    } catch (e) {
      if (!(e instanceof ObjectRuleError)) throw e;
      // The row's own sync reports the expression error; it is simply not adopted here.
    }
  }
  // Free MV candidates per (attribute, value), set-based like the sync's join.
  const values = new Map<string, Set<string>>();
  for (const k of keyed) for (const key of k.keys) {
    const set = values.get(key.metaverse) ?? new Set<string>();
    key.values.forEach((v) => set.add(v));
    values.set(key.metaverse, set);
  }
  // The MV objects being provisioned are taken from memory: the settle phase writes their freshly
  // computed values only after the outbound pass, so the table may not hold them yet.
  const wanted = new Set(group.map((g) => g.mvId));
  const candidates = new Map<string, number[]>();
  const addCandidate = (attr: string, value: string, id: number) => {
    const ck = `${attr}\u0000${value}`;
    candidates.set(ck, [...(candidates.get(ck) ?? []), id]);
  };
  for (const [attr, set] of values) {
    for (const c of await joinCandidates(tx, mvType, attr, [...set])) if (!wanted.has(c.id)) addCandidate(attr, c.value, c.id);
    for (const g of group) for (const v of valueList(g.attrs[attr] ?? null)) if (set.has(v)) addCandidate(attr, v, g.mvId);
  }
  const taken = await mvIdsConnectedIn(tx, ma.name, [...new Set([...candidates.values()].flat())]);
  const out = new Map<number, CsRow>();
  for (const { row, keys } of keyed.sort((a, b) => a.row.id - b.row.id)) {
    // The first criterion that finds free candidates decides, as in the sync: one joins, several is ambiguous.
    for (const key of keys) {
      const free = [...new Set(key.values.flatMap((v) => candidates.get(`${key.metaverse}\u0000${v}`) ?? []))].filter((id) => !taken.has(id));
      if (free.length === 0) continue;
      if (free.length > 1) {
        run.error({
          csId: String(row.id),
          anchor: row.anchor ?? undefined,
          dn: row.dn ?? undefined,
          code: "ambiguous-join",
          message: `joins ${free.length} metaverse objects (${free.sort((a, b) => a - b).slice(0, 5).join(", ")}); it stays a disconnector`,
        });
      } else if (wanted.has(free[0]) && !out.has(free[0])) {
        out.set(free[0], row);
        taken.add(free[0]);
      }
      break;
    }
  }
  return out;
}

/**
 * Unjoined, imported objects of the type that may match: narrowed in SQL by the criteria's source
 * attributes when every criterion is a plain attribute (`source.x`), else every unjoined object.
 */
async function unjoinedCandidates(
  tx: Queryable,
  ma: CompiledMA,
  targetType: string,
  rules: CompiledMA["inbound"],
  group: ProvisionCandidate[],
): Promise<CsRow[]> {
  const criteria = rules.flatMap((r) => r.join);
  const base = `select ${CS_COLUMNS} from cs_object where ma = $1 and object_type = $2 and mv_id is null and not deleted and imported_at is not null`;
  if (!criteria.every((j) => j.expr.plainAttribute)) {
    return (await tx.query<CsRow>(`${base} order by id`, [ma.name, targetType])).rows;
  }
  const params: unknown[] = [ma.name, targetType];
  const ors: string[] = [];
  for (const j of criteria) {
    const wanted = [...new Set(group.flatMap((g) => valueList(g.attrs[j.metaverse] ?? null)))];
    if (wanted.length === 0) continue;
    params.push(j.expr.plainAttribute, wanted);
    const a = `$${params.length - 1}::text`;
    const v = `$${params.length}::text[]`;
    // A single value compares as text (hashed against the list); a multi-valued attribute by its elements.
    const multi = ma.types.get(targetType)?.attributes.get(j.expr.plainAttribute!)?.multiValued === true;
    ors.push(
      multi
        ? `exists (select 1 from jsonb_array_elements_text(case jsonb_typeof(attrs->${a}) when 'array' then attrs->${a} else jsonb_build_array(attrs->${a}) end) e(v) where e.v = any(${v}))`
        : `attrs->>${a} = any(${v})`,
    );
  }
  if (ors.length === 0) return [];
  return (await tx.query<CsRow>(`${base} and (${ors.join(" or ")}) order by id`, params)).rows;
}
