// Removing metaverse objects that others reference. A reference in the metaverse (manager,
// member) holds the referenced object's MV id; an inbound connector's contribution holds the same
// id. When an object is erased or purged, those ids would dangle: they are taken out of the other
// objects' values and contributions, and the objects marked dirty, so the next settle recomputes
// their outbound values (the target's manager is cleared) exactly as if the source had dropped the
// reference. The referencing objects themselves are not touched otherwise.
import type { Queryable } from "../store/db.ts";
import { markDirty } from "../store/queries.ts";
import type { CompiledConfig } from "./rules.ts";

/** Metaverse attributes that hold references (MV ids), from the inbound flows of reference attributes. */
export function referenceAttributes(config: CompiledConfig | undefined): Set<string> {
  const out = new Set<string>();
  for (const r of config?.inboundByName.values() ?? []) for (const f of r.flows) if (f.referenceTo) out.add(f.target);
  return out;
}

/** A tsquery matching any of these plain tokens (digits: nothing to quote). */
function anyOf(ids: number[]): string {
  return ids.map((id) => `'${id}'`).join(" | ");
}

function without(value: unknown, gone: Set<string>): { changed: boolean; value: unknown } {
  if (Array.isArray(value)) {
    const kept = value.filter((v) => !gone.has(String(v)));
    return kept.length === value.length ? { changed: false, value } : { changed: true, value: kept.length === 0 ? null : kept };
  }
  if (value !== null && value !== undefined && gone.has(String(value))) return { changed: true, value: null };
  return { changed: false, value };
}

/**
 * Takes the ids out of every other metaverse object's reference attributes and out of their
 * connectors' contributions and outbound waiting lists; returns how many metaverse objects changed.
 */
export async function detachReferences(tx: Queryable, config: CompiledConfig | undefined, mvIds: number[]): Promise<number> {
  const attrs = [...referenceAttributes(config)];
  if (mvIds.length === 0) return 0;
  const gone = new Set(mvIds.map(String));
  const touched = new Set<number>();
  for (let i = 0; i < mvIds.length; i += 500) {
    const batch = mvIds.slice(i, i + 500);
    if (attrs.length > 0) {
      // The search index finds the objects holding one of the ids as a value; the loop below keeps
      // only reference attributes.
      const rows = (
        await tx.query<{ id: number; attrs: Record<string, unknown>; lineage: Record<string, unknown> }>(
          `select id, attrs, lineage from mv_object where idsync_search_vector(attrs) @@ $1::tsquery and not (id = any($2::bigint[]))`,
          [anyOf(batch), mvIds],
        )
      ).rows;
      for (const r of rows) {
        let changed = false;
        for (const a of attrs) {
          const w = without(r.attrs[a], gone);
          if (!w.changed) continue;
          changed = true;
          if (w.value === null) {
            delete r.attrs[a];
            delete r.lineage[a];
          } else r.attrs[a] = w.value;
        }
        if (!changed) continue;
        touched.add(r.id);
        await tx.query(`update mv_object set attrs = $2::jsonb, lineage = $3::jsonb where id = $1`, [r.id, JSON.stringify(r.attrs), JSON.stringify(r.lineage)]);
      }
    }
  }
  // Contributions of the referencing objects' connectors hold the same ids.
  if (touched.size > 0) {
    const conns = (
      await tx.query<{ id: number; contrib: Record<string, Record<string, unknown>> }>(
        `select id, contrib from cs_object where mv_id = any($1::bigint[]) and contrib is not null`,
        [[...touched]],
      )
    ).rows;
    for (const c of conns) {
      let changed = false;
      for (const values of Object.values(c.contrib)) {
        for (const a of attrs) {
          if (!(a in values)) continue;
          const w = without(values[a], gone);
          if (w.changed) (values[a] = w.value), (changed = true);
        }
      }
      if (changed) await tx.query(`update cs_object set contrib = $2::jsonb where id = $1`, [c.id, JSON.stringify(c.contrib)]);
    }
  }
  // Outbound references waiting for these objects to exist in a target: they never will.
  const waiting = (
    await tx.query<{ id: number; unresolved_out: number[] }>(
      `select id, unresolved_out from cs_object
        where unresolved_out is not null and exists (select 1 from jsonb_array_elements(unresolved_out) x where x #>> '{}' = any($1::text[]))`,
      [[...gone]],
    )
  ).rows;
  for (const w of waiting) {
    const kept = w.unresolved_out.filter((x) => !gone.has(String(x)));
    await tx.query(`update cs_object set unresolved_out = $2::jsonb where id = $1`, [w.id, kept.length ? JSON.stringify(kept) : null]);
  }
  await markDirty(tx, touched);
  return touched.size;
}
