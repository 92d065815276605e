// Who holds a value of an attribute declared unique by an outbound flow (engine/unique.ts): the
// objects of one MA and object type that have it (imported) or are about to receive it (a pending
// export), compared case-insensitively. One query for a whole batch of candidate values, served by
// expression indexes made when the configuration is applied, so a connector space of 100,000
// objects is probed, never scanned.
import { createHash } from "node:crypto";
import type { Queryable } from "./db.ts";
import { sqlLiteral } from "./queries.ts";

export interface ValueHolder {
  /** The candidate value asked about, as given. */
  value: string;
  cs_id: number;
}

/**
 * Holders of any of `values` in attribute `attribute` of the (non-deleted) objects of `objectType`
 * in `ma`: their imported value, or the value an add or update not yet confirmed gives them. MA,
 * type and attribute are literals, not parameters, so that the partial indexes below match.
 */
export async function uniqueValueHolders(db: Queryable, ma: string, objectType: string, attribute: string, values: string[]): Promise<ValueHolder[]> {
  if (values.length === 0) return [];
  return (await db.query<ValueHolder>(holderQuery(ma, objectType, attribute), [[...new Set(values)]])).rows;
}

/** The statement of uniqueValueHolders ($1: the candidate values), for EXPLAIN in tests. */
export function holderQuery(ma: string, objectType: string, attribute: string): string {
  const [m, t, a] = [sqlLiteral(ma), sqlLiteral(objectType), sqlLiteral(attribute)];
  return `select q.v as value, c.id as cs_id
       from unnest($1::text[]) q(v)
       join cs_object c on lower(c.attrs->>${a}) = lower(q.v)
      where c.ma = ${m} and c.object_type = ${t} and not c.deleted
     union
     select q.v as value, p.cs_id
       from unnest($1::text[]) q(v)
       join pending_export p on lower(p.changes->>${a}) = lower(q.v)
       join cs_object c on c.id = p.cs_id
      where p.ma = ${m} and p.op <> 'delete' and c.object_type = ${t} and not c.deleted`;
}

/** The indexes uniqueValueHolders reads (made when configuration is applied; idempotent). */
export async function ensureUniqueIndexes(db: Queryable, ma: string, objectType: string, attribute: string): Promise<void> {
  const id = createHash("sha256").update(`${ma}\u0000${objectType}\u0000${attribute}`).digest("hex").slice(0, 16);
  const a = sqlLiteral(attribute);
  await db.query(
    `create index if not exists cs_unique_${id} on cs_object ((lower(attrs->>${a})))
      where ma = ${sqlLiteral(ma)} and object_type = ${sqlLiteral(objectType)}`,
  );
  await db.query(`create index if not exists pe_unique_${id} on pending_export ((lower(changes->>${a}))) where ma = ${sqlLiteral(ma)}`);
}
