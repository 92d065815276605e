// Naming a data subject on the command line. A SUBJECT is
//   mv:17 or 17           a metaverse object id
//   hr/E004               an anchor in one MA's connector space
//   E004                  an anchor in any connector space
//   mail=ann@example.org  an attribute value (case-insensitive), in the metaverse or any connector space
//   cs:42                 a connector-space object by its id (one whose system has not assigned an anchor)
// Every reading that applies is tried, and the objects found are grouped by identity (a connector
// and its metaverse object are one subject). Exactly one subject: resolved. Several: ambiguous,
// with the candidates listed and nothing done — an erasure must never guess.
import type { Queryable } from "../store/db.ts";

export interface CsRef {
  id: number;
  ma: string;
  object_type: string;
  anchor: string | null;
  dn: string | null;
  mv_id: number | null;
  link: string;
}

/** A resolved subject: a metaverse object (with the connector it was named by, if any), or a disconnector. */
export interface Subject {
  mvId?: number;
  cs?: CsRef;
}

export interface Candidate {
  /** A SUBJECT name that designates exactly this candidate. */
  name: string;
  mvId: number | null;
  csId: number | null;
  objectType: string;
  /** Connectors of a metaverse candidate, as ma/anchor (anchors only: no attribute values). */
  connectors: string[];
  deleted: boolean;
}

export class SubjectNotFound extends Error {}

export class AmbiguousSubject extends Error {
  constructor(
    readonly subjectName: string,
    readonly candidates: Candidate[],
  ) {
    super(`'${subjectName}' names ${candidates.length} different subjects; name one of them:\n${candidates.map((c) => "  " + describeCandidate(c)).join("\n")}`);
  }
}

export function describeCandidate(c: Candidate): string {
  if (c.mvId !== null) {
    return `mv:${c.mvId} [${c.objectType}]${c.deleted ? " (deleted)" : ""}${c.connectors.length ? ` connectors: ${c.connectors.join(", ")}` : " no connectors"}`;
  }
  return `${c.name} [${c.objectType}] disconnector`;
}

const CS_REF = `id, ma, object_type, anchor, dn, mv_id, link`;
const ATTRIBUTE = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.+)$/s;

/** MA names present in the connector spaces (a loose index scan: cheap on millions of rows). */
export async function connectorSpaceNames(db: Queryable): Promise<string[]> {
  const r = await db.query<{ ma: string }>(
    `with recursive m as (
       select min(ma) as ma from cs_object
       union all
       select (select min(ma) from cs_object where ma > m.ma) from m where m.ma is not null)
     select ma from m where ma is not null`,
  );
  const applied = await db.query<{ name: string }>(`select name from applied_config where kind = 'ManagementAgent'`);
  return [...new Set([...r.rows.map((x) => x.ma), ...applied.rows.map((x) => x.name)])].sort();
}

/** Every object the name could designate, grouped into subjects. */
export async function subjectCandidates(db: Queryable, name: string): Promise<Candidate[]> {
  const mvIds = new Set<number>();
  const cs: CsRef[] = [];
  const id = /^(?:mv:)?(\d+)$/.exec(name);
  if (id) {
    const n = Number(id[1]);
    if (Number.isSafeInteger(n) && (await db.query(`select 1 from mv_object where id = $1`, [n])).rows.length > 0) mvIds.add(n);
  }
  const csId = /^cs:(\d+)$/.exec(name);
  if (csId) cs.push(...(await db.query<CsRef>(`select ${CS_REF} from cs_object where id = $1`, [Number(csId[1])])).rows);
  if (!name.startsWith("mv:") && !csId) {
    const mas = await connectorSpaceNames(db);
    const slash = name.indexOf("/");
    if (slash > 0 && mas.includes(name.slice(0, slash))) {
      cs.push(...(await db.query<CsRef>(`select ${CS_REF} from cs_object where ma = $1 and anchor = $2`, [name.slice(0, slash), name.slice(slash + 1)])).rows);
    }
    cs.push(...(await db.query<CsRef>(`select ${CS_REF} from cs_object where ma = any($1::text[]) and anchor = $2`, [mas, name])).rows);
    const attr = ATTRIBUTE.exec(name);
    if (attr) {
      const [, attribute, value] = attr;
      // The search index finds the value; the recheck pins it to the attribute (scalar or list).
      const match = `(attrs->>$1 = $2 or lower(attrs->>$1) = lower($2)
                      or exists (select 1 from jsonb_array_elements_text(case when jsonb_typeof(attrs->$1) = 'array' then attrs->$1 else '[]' end) e(v) where lower(v) = lower($2)))`;
      const mv = await db.query<{ id: number }>(`select id from mv_object where idsync_search_vector(attrs) @@ idsync_search_query($2, false) and ${match} limit 100`, [attribute, value]);
      for (const r of mv.rows) mvIds.add(r.id);
      cs.push(...(await db.query<CsRef>(`select ${CS_REF} from cs_object where idsync_search_vector(attrs, anchor, dn) @@ idsync_search_query($2, false) and ${match} limit 100`, [attribute, value])).rows);
    }
  }
  const disconnectors = new Map<number, CsRef>();
  for (const c of cs) {
    if (c.mv_id !== null) mvIds.add(c.mv_id);
    else disconnectors.set(c.id, c);
  }
  // A disconnector that supplied a deleted metaverse object's values (a leaver, within the grace
  // period) is that identity: naming it names the deleted object, which still holds their data.
  if (disconnectors.size > 0) {
    const owners = await db.query<{ id: number; cs: number }>(
      `select m.id, (l.value->>'cs')::bigint as cs from mv_object m, jsonb_each(m.lineage) l
        where m.deleted_at is not null and (l.value->>'cs')::bigint = any($1::bigint[])`,
      [[...disconnectors.keys()]],
    );
    for (const o of owners.rows) {
      mvIds.add(o.id);
      disconnectors.delete(o.cs);
    }
  }
  const out: Candidate[] = [];
  if (mvIds.size > 0) {
    const mvs = (await db.query<{ id: number; object_type: string; deleted_at: unknown }>(`select id, object_type, deleted_at from mv_object where id = any($1::bigint[]) order by id`, [[...mvIds]])).rows;
    const conns = (await db.query<{ mv_id: number; ma: string; anchor: string | null; dn: string | null }>(
      `select mv_id, ma, anchor, dn from cs_object where mv_id = any($1::bigint[]) order by ma, id`,
      [[...mvIds]],
    )).rows;
    for (const m of mvs) {
      out.push({
        name: `mv:${m.id}`,
        mvId: m.id,
        csId: null,
        objectType: m.object_type,
        connectors: conns.filter((c) => c.mv_id === m.id).map((c) => `${c.ma}/${c.anchor ?? "(no anchor yet)"}`),
        deleted: m.deleted_at !== null,
      });
    }
  }
  for (const d of disconnectors.values()) {
    out.push({ name: d.anchor !== null ? `${d.ma}/${d.anchor}` : `cs:${d.id}`, mvId: null, csId: d.id, objectType: d.object_type, connectors: [], deleted: false });
  }
  return out;
}

/** Resolves a SUBJECT name; throws SubjectNotFound or AmbiguousSubject. */
export async function resolveSubject(db: Queryable, name: string): Promise<Subject> {
  const candidates = await subjectCandidates(db, name);
  if (candidates.length === 0) throw new SubjectNotFound(`no metaverse object or connector-space object named '${name}'`);
  if (candidates.length > 1) throw new AmbiguousSubject(name, candidates);
  const c = candidates[0];
  // The connector the user named, when they named one: `show` starts from it.
  const named = (
    await db.query<CsRef>(
      c.csId !== null
        ? `select ${CS_REF} from cs_object where id = $1`
        : `select ${CS_REF} from cs_object
            where (mv_id = $1 or id in (select (l.value->>'cs')::bigint from mv_object m, jsonb_each(m.lineage) l where m.id = $1))
              and (anchor = $2 or ma || '/' || anchor = $2)
            order by mv_id nulls last limit 1`,
      c.csId !== null ? [c.csId] : [c.mvId, name],
    )
  ).rows[0];
  return c.mvId !== null ? { mvId: c.mvId, cs: named } : { cs: named };
}
