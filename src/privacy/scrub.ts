// Taking one subject's values out of what other rows say about them: free text in the run history
// (error messages, run messages, export errors) and reference values in other connector-space
// objects (a colleague's `managerId` that names the erased person's anchor). Used by erasure after
// the subject's own rows are gone.
import type { Queryable } from "../store/db.ts";
import { tokenPattern } from "./collect.ts";

export const ERASED = "[erased]";

/** Replaces every whole-token occurrence of the values in run texts; returns how many rows changed. */
export async function redactHistoryText(tx: Queryable, values: string[]): Promise<number> {
  let rows = 0;
  for (const v of values) {
    const p = tokenPattern(v);
    rows += (await tx.query(`update run_error set message = regexp_replace(message, $1, $2, 'g') where message ~ $1`, [p, ERASED])).rowCount;
    rows += (await tx.query(`update run_error set anchor = null where anchor ~ $1`, [p])).rowCount;
    rows += (await tx.query(`update run_error set dn = null where dn ~ $1`, [p])).rowCount;
    rows += (await tx.query(`update run_history set message = regexp_replace(message, $1, $2, 'g') where message ~ $1`, [p, ERASED])).rowCount;
    rows += (
      await tx.query(`update pending_export set error = regexp_replace(error::text, $1, $2, 'g')::jsonb where error is not null and error::text ~ $1`, [p, ERASED])
    ).rowCount;
  }
  return rows;
}

/**
 * In one MA's connector space, removes the values (the subject's anchors or DNs there) from the
 * other objects' reference attributes and unresolved references. `referenceAttrs` are the MA's
 * attributes declared `type: reference`. Returns how many objects changed.
 */
export async function scrubReferenceValues(
  tx: Queryable,
  ma: string,
  values: string[],
  referenceAttrs: Set<string>,
  exceptIds: number[],
): Promise<number> {
  if (values.length === 0) return 0;
  const lowered = new Set(values.map((v) => v.toLowerCase()));
  const isGone = (v: unknown) => typeof v === "string" && lowered.has(v.toLowerCase());
  let changed = 0;
  if (referenceAttrs.size > 0) {
    const rows = (
      await tx.query<{ id: number; attrs: Record<string, unknown> }>(
        `select id, attrs from cs_object
          where ma = $1 and not (id = any($2::bigint[]))
            and idsync_search_vector(attrs, anchor, dn) @@ (select string_agg(idsync_search_query(v, false)::text, ' | ')::tsquery from unnest($3::text[]) v)`,
        [ma, exceptIds, values],
      )
    ).rows;
    for (const r of rows) {
      let hit = false;
      for (const a of referenceAttrs) {
        const v = r.attrs[a];
        if (Array.isArray(v)) {
          const kept = v.filter((x) => !isGone(x));
          if (kept.length !== v.length) {
            hit = true;
            if (kept.length === 0) delete r.attrs[a];
            else r.attrs[a] = kept;
          }
        } else if (isGone(v)) {
          hit = true;
          delete r.attrs[a];
        }
      }
      if (!hit) continue;
      changed++;
      await tx.query(`update cs_object set attrs = $2::jsonb where id = $1`, [r.id, JSON.stringify(r.attrs)]);
    }
  }
  const waiting = (
    await tx.query<{ id: number; unresolved_refs: unknown[] }>(
      `select id, unresolved_refs from cs_object where ma = $1 and unresolved_refs is not null and jsonb_exists_any(unresolved_refs, $2::text[])`,
      [ma, values],
    )
  ).rows;
  for (const w of waiting) {
    const kept = w.unresolved_refs.filter((x) => !isGone(x));
    await tx.query(`update cs_object set unresolved_refs = $2::jsonb where id = $1`, [w.id, kept.length ? JSON.stringify(kept) : null]);
    changed++;
  }
  return changed;
}
