// Search for personal data across the metaverse and every connector space: a value matched
// exactly or by prefix, case-insensitively unless asked otherwise, in any attribute or one, narrowed
// by a CEL filter for everything else. The value lookups go through the search indexes of
// migration 002 (a GIN index over each object's lowercased values), then are rechecked exactly;
// results come in pages, ordered metaverse first then connector spaces, each by id, with a cursor.
import { compileExpression, type Attributes, type CompiledExpression } from "../expr/index.ts";
import type { Database, Queryable } from "../store/db.ts";

export type SearchScope = "all" | "metaverse" | "connectors";

export interface SearchRequest {
  /** The value to look for; absent: every object (narrowed by type, MA and filter). */
  value?: string;
  /** Only this attribute (the anchor and DN of connector-space objects count as no attribute). */
  attribute?: string;
  prefix?: boolean;
  caseSensitive?: boolean;
  scope: SearchScope;
  ma?: string;
  type?: string;
  /** CEL condition: over `mv` it searches the metaverse, over `object` the connector spaces. */
  filter?: string;
  limit: number;
  /** A cursor from an earlier page (`mv:ID` or `cs:ID`). */
  after?: string;
}

export interface SearchHit {
  kind: "metaverse" | "connector-space";
  id: number;
  /** The SUBJECT name of this object (for show, subject export, subject erase). */
  name: string;
  ma?: string;
  anchor?: string | null;
  dn?: string | null;
  objectType: string;
  /** live | deleted (metaverse); connector | disconnector | filtered | explicit | deleted (connector space). */
  state: string;
  mvId: number | null;
  attrs: Attributes;
  /** Attributes whose value matched ("(anchor)", "(dn)" for those). */
  matched: string[];
}

export interface SearchResult {
  hits: SearchHit[];
  /** Cursor of the next page, when this one is full (the next page may turn out empty). */
  next?: string;
}

export class SearchError extends Error {}

interface Filters {
  mv?: CompiledExpression;
  cs?: CompiledExpression;
  scope: SearchScope;
}

/** Compiles the filter for the variables it can read and narrows the scope to where it applies. */
function compileFilters(req: SearchRequest): Filters {
  if (!req.filter) return { scope: req.scope };
  const tryCompile = (variable: "mv" | "object") => {
    try {
      return { expr: compileExpression(req.filter!, { variable }) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  const mv = req.scope !== "connectors" ? tryCompile("mv") : undefined;
  const cs = req.scope !== "metaverse" ? tryCompile("object") : undefined;
  if (!mv?.expr && !cs?.expr) throw new SearchError(`--filter: ${mv?.error ?? cs?.error}`);
  const scope: SearchScope = mv?.expr && cs?.expr ? req.scope : mv?.expr ? "metaverse" : "connectors";
  return { mv: mv?.expr, cs: cs?.expr, scope };
}

function parseCursor(after: string | undefined): { table: "mv" | "cs"; id: number } | undefined {
  if (!after) return undefined;
  const m = /^(mv|cs):(\d+)$/.exec(after);
  if (!m) throw new SearchError(`--after: '${after}' is not a cursor (mv:ID or cs:ID, as printed by the previous page)`);
  return { table: m[1] as "mv" | "cs", id: Number(m[2]) };
}

/** SQL deciding whether the text expression `expr` matches parameter $1 the requested way. */
function matchSql(expr: string, req: SearchRequest): string {
  const l = req.caseSensitive ? expr : `lower(${expr})`;
  const v = req.caseSensitive ? "$1::text" : "lower($1::text)";
  return req.prefix ? `starts_with(${l}, ${v})` : `${l} = ${v}`;
}

const PAGE = 500;

export async function searchObjects(db: Database, req: SearchRequest): Promise<SearchResult> {
  if (!Number.isInteger(req.limit) || req.limit < 1 || req.limit > 10_000) throw new SearchError(`--limit must be between 1 and 10000, got '${req.limit}'`);
  if (req.value !== undefined && req.value === "") throw new SearchError("the value to search for is empty");
  const filters = compileFilters(req);
  const cursor = parseCursor(req.after);
  return withoutJit(db, async (tx) => {
    // The planner estimates a rare value's matches far too high and would read the whole table
    // instead of the index; every query here has an index to use.
    await tx.query(`set local enable_seqscan = off`);
    return searchIn(tx, req, filters, cursor);
  });
}

/**
 * Runs fn in a transaction without JIT compilation: the planner's cost estimates for these queries
 * (a subplan over jsonb per row) are inflated enough to trigger it, and compiling costs ~150 ms a
 * query for plans that then run in a millisecond.
 */
function withoutJit<T>(db: Database, fn: (q: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query(`set local jit = off`);
    return fn(tx);
  });
}

/** Past this many matches in a table, walking it in id order finds a page sooner than the index. */
const DENSE = 2000;

async function searchIn(db: Queryable, req: SearchRequest, filters: Filters, cursor: { table: "mv" | "cs"; id: number } | undefined): Promise<SearchResult> {
  const hits: SearchHit[] = [];
  const scopes: Array<"mv" | "cs"> = [];
  if (filters.scope !== "connectors" && !req.ma) scopes.push("mv");
  if (filters.scope !== "metaverse") scopes.push("cs");
  for (const table of scopes) {
    if (cursor && cursor.table === "cs" && table === "mv") continue;
    let after = cursor && cursor.table === table ? cursor.id : 0;
    const filter = table === "mv" ? filters.mv : filters.cs;
    const dense = req.value !== undefined && (await matchesAtLeast(db, table, req, after, DENSE));
    for (;;) {
      // Without a CEL filter every row returned is a hit: ask for exactly what is missing.
      const size = filter ? PAGE : Math.min(PAGE, req.limit - hits.length);
      const rows = await page(db, table, req, after, size, dense);
      for (const h of rows) {
        after = h.id;
        let ok = true;
        try {
          ok = filter ? filter.test(h.attrs) : true;
        } catch {
          ok = false; // an expression failing on one object (a type mismatch) does not match it
        }
        if (ok) hits.push(h);
        if (hits.length >= req.limit) return { hits, next: `${table}:${h.id}` };
      }
      if (rows.length < size) break;
    }
  }
  return { hits };
}

/**
 * Whether the index finds at least n candidates: the index returns its matches unordered, so a page
 * of a value matching most objects (a short prefix) is found faster by reading the table in id
 * order and testing each row; a rare value, through the index and a sort of its few matches.
 */
async function matchesAtLeast(db: Queryable, table: "mv" | "cs", req: SearchRequest, after: number, n: number): Promise<boolean> {
  const vector = table === "mv" ? "idsync_search_vector(attrs)" : "idsync_search_vector(attrs, anchor, dn)";
  const r = await db.query<{ n: number }>(
    `select count(*) as n from (select 1 from ${table === "mv" ? "mv_object" : "cs_object"} where id > $2 and ${vector} @@ idsync_search_query($1, $3) limit $4) s`,
    [req.value, after, req.prefix === true, n],
  );
  return r.rows[0].n >= n;
}

async function page(db: Queryable, table: "mv" | "cs", req: SearchRequest, after: number, size: number, dense: boolean): Promise<SearchHit[]> {
  // Dense matches: `(…) is true` keeps the planner off the search index and on the primary key's
  // order. Rare ones: `id + 0` keeps it off the primary key's order (its estimates of how many rows
  // match are far too high, so it would walk the whole table in id order to fill a page).
  const indexed = (cond: string) => (dense ? `(${cond}) is true` : cond);
  const order = (alias: string) => (dense || req.value === undefined ? `${alias}.id` : `${alias}.id + 0`);
  const params: unknown[] = [req.value ?? null, req.attribute ?? null, after, req.type ?? null, size];
  if (table === "mv") {
    const byValue = req.value !== undefined;
    const rows = (
      await db.query<{ id: number; object_type: string; attrs: Attributes; deleted_at: unknown; matched: string[] | null }>(
        `select m.id, m.object_type, m.attrs, m.deleted_at, ${byValue ? "hit.matched" : "null as matched"}
           from mv_object m
           ${byValue ? `cross join lateral (select array(
               select distinct e.k from jsonb_each(m.attrs) e(k, x), jsonb_path_query(e.x, 'lax $[*]') v
                where ($2::text is null or e.k = $2) and ${matchSql("v #>> '{}'", req)} order by 1) as matched) hit` : ""}
          where m.id > $3 and ($4::text is null or m.object_type = $4)
            ${byValue ? `and ${indexed("idsync_search_vector(m.attrs) @@ idsync_search_query($1, $6)")} and cardinality(hit.matched) > 0` : "and $1::text is null and $2::text is null"}
          order by ${order("m")} limit $5`,
        byValue ? [...params, req.prefix === true] : params,
      )
    ).rows;
    return rows.map((r) => ({
      kind: "metaverse",
      id: r.id,
      name: `mv:${r.id}`,
      objectType: r.object_type,
      state: r.deleted_at ? "deleted" : "live",
      mvId: r.id,
      attrs: r.attrs,
      matched: r.matched ?? [],
    }));
  }
  const byValue = req.value !== undefined;
  const rows = (
    await db.query<{ id: number; ma: string; object_type: string; anchor: string | null; dn: string | null; mv_id: number | null; link: string; deleted: boolean; attrs: Attributes; matched: string[] | null }>(
      `select c.id, c.ma, c.object_type, c.anchor, c.dn, c.mv_id, c.link, c.deleted, c.attrs, ${byValue ? "hit.matched" : "null as matched"}
         from cs_object c
         ${byValue ? `cross join lateral (select array(
             select k from (
               select distinct e.k from jsonb_each(c.attrs) e(k, x), jsonb_path_query(e.x, 'lax $[*]') v
                where ($2::text is null or e.k = $2) and ${matchSql("v #>> '{}'", req)}
               union all select '(anchor)' where $2::text is null and ${matchSql("c.anchor", req)}
               union all select '(dn)' where $2::text is null and ${matchSql("c.dn", req)}) s order by 1) as matched) hit` : ""}
        where c.id > $3 and ($4::text is null or c.object_type = $4) and ($6::text is null or c.ma = $6)
          ${byValue ? `and ${indexed("idsync_search_vector(c.attrs, c.anchor, c.dn) @@ idsync_search_query($1, $7)")} and cardinality(hit.matched) > 0` : "and $1::text is null and $2::text is null"}
        order by ${order("c")} limit $5`,
      byValue ? [...params, req.ma ?? null, req.prefix === true] : [...params, req.ma ?? null],
    )
  ).rows;
  return rows.map((r) => ({
    kind: "connector-space",
    id: r.id,
    name: r.anchor !== null ? `${r.ma}/${r.anchor}` : `cs:${r.id}`,
    ma: r.ma,
    anchor: r.anchor,
    dn: r.dn,
    objectType: r.object_type,
    state: r.deleted ? "deleted" : r.mv_id !== null ? "connector" : r.link === "normal" ? "disconnector" : r.link,
    mvId: r.mv_id,
    attrs: r.attrs,
    matched: r.matched ?? [],
  }));
}
