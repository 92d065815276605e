// Set-based reads and writes of the sync state. Every function takes or returns many rows at once:
// the engine never issues a query per object. Rows go in as one JSON array (jsonb_to_recordset),
// which both pg and PGlite accept as a single parameter.
import type { Attributes } from "../expr/index.ts";
import type { Queryable } from "./db.ts";

export interface CsRow {
  id: number;
  ma: string;
  object_type: string;
  anchor: string | null;
  dn: string | null;
  dn_norm: string | null;
  attrs: Attributes;
  pending_import: "add" | "update" | "delete" | null;
  deleted: boolean;
  imported_at: string | null;
  mv_id: number | null;
  link: "normal" | "filtered" | "explicit" | "projected" | "joined" | "provisioned";
  contrib: Record<string, Attributes> | null;
  unresolved_refs: unknown[] | null;
  unresolved_out: number[] | null;
  rule: string | null;
  /** The metaverse object this object was connected to before it lost it (restore, migration 003). */
  last_mv_id: number | null;
}

export interface MvRow {
  id: number;
  object_type: string;
  attrs: Attributes;
  lineage: Record<string, unknown>;
  deleted_at: string | null;
  lost_from: string[] | null;
}

export interface PendingExportRow {
  cs_id: number;
  ma: string;
  op: "add" | "update" | "delete";
  new_dn: string | null;
  changes: Attributes;
  state: "pending" | "unconfirmed" | "error";
  error: { code: string; message: string } | null;
  attempts: number;
}

/** Every column of a CsRow, for `select ${CS_COLUMNS} from cs_object`. */
export const CS_COLUMNS = `id, ma, object_type, anchor, dn, dn_norm, attrs, pending_import, deleted, imported_at, mv_id, link, contrib, unresolved_refs, unresolved_out, rule, last_mv_id`;
const CS_COLUMNS_OF_C = CS_COLUMNS.split(", ").map((c) => "c." + c).join(", ");

export const CONNECTED_LINKS = ["projected", "joined", "provisioned"] as const;

export function isConnector(row: Pick<CsRow, "mv_id">): boolean {
  return row.mv_id !== null;
}

export async function csByIds(db: Queryable, ids: number[]): Promise<CsRow[]> {
  if (ids.length === 0) return [];
  const r = await db.query<CsRow>(`select ${CS_COLUMNS} from cs_object where id = any($1::bigint[]) order by id`, [ids]);
  return r.rows;
}

export async function csByMvIds(db: Queryable, mvIds: number[]): Promise<CsRow[]> {
  if (mvIds.length === 0) return [];
  const r = await db.query<CsRow>(`select ${CS_COLUMNS} from cs_object where mv_id = any($1::bigint[]) order by id`, [mvIds]);
  return r.rows;
}

export async function csByAnchors(db: Queryable, ma: string, anchors: string[]): Promise<CsRow[]> {
  if (anchors.length === 0) return [];
  const r = await db.query<CsRow>(
    `select ${CS_COLUMNS} from cs_object where ma = $1 and anchor = any($2::text[])`,
    [ma, anchors],
  );
  return r.rows;
}

export async function csByDnNorm(db: Queryable, ma: string, dns: string[]): Promise<CsRow[]> {
  if (dns.length === 0) return [];
  const r = await db.query<CsRow>(
    `select ${CS_COLUMNS} from cs_object where ma = $1 and dn_norm = any($2::text[])`,
    [ma, dns],
  );
  return r.rows;
}

/** Connectors of these MV objects with their contributions only (precedence needs nothing else). */
export async function contributionsOf(db: Queryable, mvIds: number[]): Promise<Array<Pick<CsRow, "id" | "ma" | "mv_id" | "contrib">>> {
  if (mvIds.length === 0) return [];
  const r = await db.query<Pick<CsRow, "id" | "ma" | "mv_id" | "contrib">>(
    `select id, ma, mv_id, contrib from cs_object where mv_id = any($1::bigint[])`,
    [mvIds],
  );
  return r.rows;
}

/** Connectors of these MV objects in the given MAs (outbound sync reads only the target MAs). */
export async function csByMvIdsIn(db: Queryable, mvIds: number[], mas: string[]): Promise<CsRow[]> {
  if (mvIds.length === 0 || mas.length === 0) return [];
  const r = await db.query<CsRow>(
    `select ${CS_COLUMNS} from cs_object where mv_id = any($1::bigint[]) and ma = any($2::text[]) order by id`,
    [mvIds, mas],
  );
  return r.rows;
}

export async function mvByIds(db: Queryable, ids: number[]): Promise<MvRow[]> {
  if (ids.length === 0) return [];
  const r = await db.query<MvRow>(
    `select id, object_type, attrs, lineage, deleted_at, lost_from from mv_object where id = any($1::bigint[]) order by id`,
    [ids],
  );
  return r.rows;
}

export async function pendingExportsFor(db: Queryable, csIds: number[]): Promise<PendingExportRow[]> {
  if (csIds.length === 0) return [];
  const r = await db.query<PendingExportRow>(
    `select cs_id, ma, op, new_dn, changes, state, error, attempts from pending_export where cs_id = any($1::bigint[])`,
    [csIds],
  );
  return r.rows;
}

/** A SQL string literal (for identifiers-as-values that must be constants for an index to match). */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Ids of MV objects that are candidates for a join: objects of the type whose (single-valued)
 * attribute equals one of the values, live ones (a join), or soft-deleted ones (deleted by a
 * deletion rule, still within their grace period: the identity a returning object restores).
 * The attribute is a literal, not a parameter, so the expression index made by ensureJoinIndex
 * matches the live lookup.
 */
export async function joinCandidates(
  db: Queryable,
  mvType: string,
  attribute: string,
  values: string[],
  which: "live" | "deleted" = "live",
): Promise<Array<{ id: number; value: string }>> {
  if (values.length === 0) return [];
  const attr = sqlLiteral(attribute);
  const r = await db.query<{ id: number; value: string }>(
    `select id, attrs->>${attr} as value from mv_object
      where object_type = ${sqlLiteral(mvType)} and deleted_at ${which === "live" ? "is null" : "is not null"} and attrs->>${attr} = any($1::text[])`,
    [values],
  );
  return r.rows;
}

/**
 * Connector-space objects of one MA and type that were connected to these MV objects and lost
 * them (deprovisioned by disconnect or disable, or by a delete not yet sent): what a restored
 * identity reconnects to instead of provisioning anew. Never one whose delete was already sent.
 */
export async function formerConnectors(db: Queryable, ma: string, objectType: string, mvIds: number[]): Promise<CsRow[]> {
  if (mvIds.length === 0) return [];
  const r = await db.query<CsRow>(
    `select ${CS_COLUMNS_OF_C} from cs_object c
      where c.ma = $1 and c.object_type = $2 and c.last_mv_id = any($3::bigint[]) and c.mv_id is null and not c.deleted
        and not exists (select 1 from pending_export p where p.cs_id = c.id and p.op = 'delete' and p.state = 'unconfirmed')
      order by c.id`,
    [ma, objectType, mvIds],
  );
  return r.rows;
}

/**
 * Deletes the connected system confirmed (an import no longer sees the object, or the export's
 * answer proves it gone): a disconnected object is forgotten, its pending export with it; one still
 * connected is marked deleted for the next sync to see.
 */
export async function settleConfirmedDeletes(tx: Queryable, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(`delete from cs_object where id = any($1::bigint[]) and mv_id is null`, [ids]);
  await tx.query(`update cs_object set deleted = true, pending_import = 'delete' where id = any($1::bigint[]) and mv_id is not null`, [ids]);
  await tx.query(`delete from pending_export where cs_id = any($1::bigint[])`, [ids]);
}

/** Objects of an MA the connector space holds as present in the connected system: the deletion guard's base. */
export async function presentObjects(db: Queryable, ma: string): Promise<number> {
  return (await db.query<{ n: number }>(`select count(*) as n from cs_object where ma = $1 and not deleted and imported_at is not null`, [ma])).rows[0].n;
}

/** An expression index for joins on one metaverse attribute of one type (made when config is applied). */
export async function ensureJoinIndex(db: Queryable, mvType: string, attribute: string): Promise<void> {
  const { createHash } = await import("node:crypto");
  const name = "mv_join_" + createHash("sha256").update(`${mvType}\u0000${attribute}`).digest("hex").slice(0, 16);
  await db.query(
    `create index if not exists ${name} on mv_object ((attrs->>${sqlLiteral(attribute)}))
      where object_type = ${sqlLiteral(mvType)} and deleted_at is null`,
  );
}

/** MV ids (of the given set) that already have a connector in this MA. */
export async function mvIdsConnectedIn(db: Queryable, ma: string, mvIds: number[]): Promise<Set<number>> {
  if (mvIds.length === 0) return new Set();
  const r = await db.query<{ mv_id: number }>(
    `select distinct mv_id from cs_object where ma = $1 and mv_id = any($2::bigint[])`,
    [ma, mvIds],
  );
  return new Set(r.rows.map((x) => x.mv_id));
}

export async function allocateIds(db: Queryable, sequence: "mv_object_id_seq" | "cs_object_id_seq", n: number): Promise<number[]> {
  if (n === 0) return [];
  const r = await db.query<{ id: number }>(`select nextval('${sequence}') as id from generate_series(1, $1::int)`, [n]);
  return r.rows.map((x) => x.id);
}

/** Runs `update <table> t set … from jsonb_to_recordset($1) v(<columns>) where t.<key> = v.<key>`. */
export async function updateRows(
  db: Queryable,
  table: "cs_object" | "mv_object",
  columns: Record<string, string>,
  rows: ReadonlyArray<object>,
  setClause: string,
): Promise<void> {
  if (rows.length === 0) return;
  const decl = Object.entries(columns)
    .map(([n, t]) => `${n} ${t}`)
    .join(", ");
  await db.query(`update ${table} t set ${setClause} from jsonb_to_recordset($1::jsonb) as v(${decl}) where t.id = v.id`, [
    JSON.stringify(rows),
  ]);
}

export async function insertMvObjects(
  db: Queryable,
  rows: Array<{ id: number; object_type: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into mv_object (id, object_type, dirty) select id, object_type, true from jsonb_to_recordset($1::jsonb) as v(id bigint, object_type text)`,
    [JSON.stringify(rows)],
  );
}

/** Marks MV objects for the metaverse and outbound phases; with `lostIn`, records the lost connector's MA. */
export async function markDirty(db: Queryable, ids: Iterable<number>, lostIn?: string): Promise<void> {
  const list = [...new Set(ids)];
  if (list.length === 0) return;
  if (lostIn === undefined) {
    await db.query(`update mv_object set dirty = true where id = any($1::bigint[]) and not dirty`, [list]);
  } else {
    await db.query(
      `update mv_object set dirty = true,
              lost_from = array(select distinct x from unnest(coalesce(lost_from, '{}'::text[]) || $2::text) x order by x)
        where id = any($1::bigint[])`,
      [list, lostIn],
    );
  }
}

export async function dirtyMvIds(db: Queryable): Promise<number[]> {
  return (await db.query<{ id: number }>(`select id from mv_object where dirty order by id`)).rows.map((r) => r.id);
}

export async function upsertPendingExports(db: Queryable, rows: Array<Omit<PendingExportRow, "error" | "attempts">>): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into pending_export (cs_id, ma, op, new_dn, changes, state)
     select cs_id, ma, op, new_dn, changes, state
       from jsonb_to_recordset($1::jsonb) as v(cs_id bigint, ma text, op text, new_dn text, changes jsonb, state text)
     on conflict (cs_id) do update set op = excluded.op, new_dn = excluded.new_dn, changes = excluded.changes,
       state = excluded.state, error = null, attempts = 0, updated_at = now(), exported_at = null`,
    [JSON.stringify(rows)],
  );
}

export async function deletePendingExports(db: Queryable, csIds: number[]): Promise<void> {
  if (csIds.length === 0) return;
  await db.query(`delete from pending_export where cs_id = any($1::bigint[])`, [csIds]);
}

export interface NewCsObject {
  id: number;
  ma: string;
  object_type: string;
  anchor: string | null;
  dn: string | null;
  dn_norm: string | null;
  mv_id: number;
  link: string;
  rule: string;
}

export async function insertCsObjects(db: Queryable, rows: NewCsObject[], now: string): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `insert into cs_object (id, ma, object_type, anchor, dn, dn_norm, mv_id, link, rule, linked_at, synced_at)
     select id, ma, object_type, anchor, dn, dn_norm, mv_id, link, rule, $2::timestamptz, $2::timestamptz
       from jsonb_to_recordset($1::jsonb) as v(id bigint, ma text, object_type text, anchor text, dn text, dn_norm text, mv_id bigint, link text, rule text)`,
    [JSON.stringify(rows), now],
  );
}

/**
 * For each metaverse id, the object connected to it in one MA and type that a reference may name
 * (reference resolution). An add not exported yet counts (an export sends it before the objects
 * that reference it), unless it failed: an add whose pending export is in state 'error' and that no
 * import has seen does not exist in the target, which may refuse a reference to it.
 */
export async function connectorsOf(
  db: Queryable,
  ma: string,
  objectType: string,
  mvIds: number[],
): Promise<Array<{ mv_id: number; anchor: string | null; dn: string | null }>> {
  if (mvIds.length === 0) return [];
  const r = await db.query<{ mv_id: number; anchor: string | null; dn: string | null }>(
    // A pending rename counts: references follow the DN the object is about to have.
    `select c.mv_id, c.anchor, coalesce(p.new_dn, c.dn) as dn from cs_object c left join pending_export p on p.cs_id = c.id
      where c.ma = $1 and c.object_type = $2 and c.mv_id = any($3::bigint[]) and not ${failedAdd("c", "p")}`,
    [ma, objectType, mvIds],
  );
  return r.rows;
}

/** SQL condition on a cs_object row left-joined with its pending export: an add that failed. */
export function failedAdd(cs: string, pe: string): string {
  return `coalesce(${pe}.op = 'add' and ${pe}.state = 'error' and ${cs}.imported_at is null, false)`;
}

/**
 * Adds of one MA not exported yet (pending, or failed and to be retried; no import has seen the
 * object) among the objects with these anchors or normalized DNs: what export-refs.ts orders by.
 */
export async function unsentAdds(
  db: Queryable,
  ma: string,
  by: "anchor" | "dn",
  keys: string[],
): Promise<Array<{ id: number; key: string; state: "pending" | "error" }>> {
  if (keys.length === 0) return [];
  const column = by === "dn" ? "c.dn_norm" : "c.anchor";
  const r = await db.query<{ id: number; key: string; state: "pending" | "error" }>(
    `select c.id, ${column} as key, p.state from cs_object c join pending_export p on p.cs_id = c.id
      where c.ma = $1 and ${column} = any($2::text[]) and p.op = 'add' and p.state <> 'unconfirmed' and c.imported_at is null`,
    [ma, keys],
  );
  return r.rows;
}

/**
 * Refreshes planner statistics after a bulk change. Autovacuum would get there, but only a minute
 * later: until then a table that grew from empty is planned as if it were empty (sequential scans
 * for every batch lookup), which turns a linear sync quadratic.
 */
export async function refreshStatistics(db: Queryable, tables: Array<"cs_object" | "mv_object" | "pending_export">): Promise<void> {
  await db.query(`analyze ${tables.join(", ")}`);
}

/** Threshold of changed rows past which a run refreshes statistics. */
export const BULK_CHANGE = 1000;

/**
 * Live MV objects holding any of these MV ids in any of these (reference) attributes, single- or
 * multi-valued. The search index (migration 002: one GIN index over every value) narrows the
 * candidates by the id as a value; containment then checks the attribute.
 */
export async function mvReferencing(db: Queryable, attributes: string[], mvIds: number[]): Promise<number[]> {
  if (attributes.length === 0 || mvIds.length === 0) return [];
  const terms = mvIds.map((id) => `'${id}'`).join(" | ");
  const probes: string[] = [];
  for (const id of mvIds) for (const a of attributes) probes.push(JSON.stringify({ [a]: String(id) }), JSON.stringify({ [a]: [String(id)] }));
  const contains = probes.map((_, i) => `attrs @> $${i + 2}::jsonb`).join(" or ");
  const r = await db.query<{ id: number }>(
    `select id from mv_object where deleted_at is null and idsync_search_vector(attrs) @@ $1::tsquery and (${contains})`,
    [terms, ...probes],
  );
  return r.rows.map((x) => x.id);
}
