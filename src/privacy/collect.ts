// Everything the engine holds about one subject, in one document: the metaverse object with the
// lineage and the source of authority of each attribute, every connector-space object (connected
// now, or a former connector that supplied a value), pending and unconfirmed exports, run errors
// and run messages that mention them, and who references them. `show` prints it, `subject export`
// hands it out (a data subject access request), `subject erase` removes exactly this.
import type { ConfigSet } from "../config/model.ts";
import { referenceAttributes } from "../engine/detach.ts";
import { compileConfig, type CompiledConfig } from "../engine/rules.ts";
import type { Queryable } from "../store/db.ts";
import { anchorHash } from "./hash.ts";
import type { Subject } from "./subject.ts";

export interface HeldObject {
  id: number;
  ma: string;
  objectType: string;
  anchor: string | null;
  dn: string | null;
  attrs: Record<string, unknown>;
  /** projected | joined | provisioned (connectors); normal | filtered | explicit (disconnectors). */
  link: string;
  connected: boolean;
  deleted: boolean;
  pendingImport: string | null;
  importedAt: string | null;
  linkedAt: string | null;
  syncedAt: string | null;
  disconnectedAt: string | null;
  /** Values this object contributes to the metaverse, by inbound rule. */
  contributions: Record<string, Record<string, unknown>> | null;
  unresolvedReferences: unknown[] | null;
  /** Outbound: the rule that provisioned or manages it. */
  rule: string | null;
}

export interface HeldExport {
  csId: number;
  ma: string;
  anchor: string | null;
  op: string;
  newDn: string | null;
  changes: Record<string, unknown>;
  /** pending | error | unconfirmed (exported, awaiting the confirming import). */
  state: string;
  error: unknown;
  attempts: number;
  createdAt: string | null;
  exportedAt: string | null;
}

export interface HeldAttribute {
  name: string;
  value: unknown;
  /** The contribution that won precedence: which MA, rule and connector-space object, since when. */
  suppliedBy: { ma: string; rule: string; csId: number | null; at: string | null } | null;
  /** The MA whose inbound rule ranks first for this attribute: where the value must be corrected. */
  authority: { ma: string; rule: string; precedence: number } | null;
  /** Where outbound rules send this value: the target object's attribute, as last imported and as pending. */
  exportedTo: Array<{ ma: string; object: string; attribute: string; value: unknown; pending?: unknown; pendingState?: string }>;
}

export interface SubjectRecord {
  generatedAt: string;
  /**
   * `primary`: the anchor that names the subject in the audit trail (as a salted hash): their
   * connector in the MA of the first-ranked inbound rule, else their first connector with an anchor.
   */
  subject: { mvId: number | null; objectType: string; primary: { ma: string; anchor: string } | null };
  metaverseObject: {
    id: number;
    objectType: string;
    attrs: Record<string, unknown>;
    lineage: Record<string, unknown>;
    createdAt: string | null;
    updatedAt: string | null;
    deletedAt: string | null;
  } | null;
  attributes: HeldAttribute[];
  connectors: HeldObject[];
  /** Disconnectors that once supplied its values (named by the lineage). */
  formerConnectors: HeldObject[];
  pendingExports: HeldExport[];
  runErrors: Array<{ id: number; runId: number; at: string | null; ma: string; csId: number | null; anchor: string | null; dn: string | null; code: string; message: string }>;
  runMessages: Array<{ runId: number; ma: string; profile: string; at: string | null; message: string }>;
  /** Metaverse objects whose reference attribute (e.g. manager) points at this subject: ids only. */
  referencedBy: Array<{ mvId: number; attribute: string }>;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

interface CsDbRow {
  id: number; ma: string; object_type: string; anchor: string | null; dn: string | null; attrs: Record<string, unknown>; link: string;
  mv_id: number | null; deleted: boolean; pending_import: string | null; imported_at: unknown; linked_at: unknown; synced_at: unknown;
  disconnected_at: unknown; contrib: Record<string, Record<string, unknown>> | null; unresolved_refs: unknown[] | null; rule: string | null;
}

function held(r: CsDbRow): HeldObject {
  return {
    id: r.id, ma: r.ma, objectType: r.object_type, anchor: r.anchor, dn: r.dn, attrs: r.attrs, link: r.link, connected: r.mv_id !== null,
    deleted: r.deleted, pendingImport: r.pending_import, importedAt: iso(r.imported_at), linkedAt: iso(r.linked_at), syncedAt: iso(r.synced_at),
    disconnectedAt: iso(r.disconnected_at), contributions: r.contrib, unresolvedReferences: r.unresolved_refs, rule: r.rule,
  };
}

const CS_SELECT = `select id, ma, object_type, anchor, dn, attrs, link, mv_id, deleted, pending_import, imported_at, linked_at, synced_at,
  disconnected_at, contrib, unresolved_refs, rule from cs_object`;

/** A PostgreSQL regular expression matching `s` as a whole token (not inside a longer word). */
export function tokenPattern(s: string): string {
  return `(?<![[:alnum:]])${s.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&")}(?![[:alnum:]])`;
}

function compiledOrUndefined(config: ConfigSet | undefined): CompiledConfig | undefined {
  return config ? compileConfig(config) : undefined;
}

export async function collectSubject(db: Queryable, config: ConfigSet | undefined, subject: Subject, now = new Date()): Promise<SubjectRecord> {
  const compiled = compiledOrUndefined(config);
  const mv =
    subject.mvId === undefined
      ? undefined
      : (await db.query<{ id: number; object_type: string; attrs: Record<string, unknown>; lineage: Record<string, { ma: string; rule: string; cs?: number; at?: string }>; created_at: unknown; updated_at: unknown; deleted_at: unknown }>(
          `select id, object_type, attrs, lineage, created_at, updated_at, deleted_at from mv_object where id = $1`,
          [subject.mvId],
        )).rows[0];
  const connectors = mv
    ? (await db.query<CsDbRow>(`${CS_SELECT} where mv_id = $1 order by ma, id`, [mv.id])).rows
    : subject.cs
      ? (await db.query<CsDbRow>(`${CS_SELECT} where id = $1`, [subject.cs.id])).rows
      : [];
  const lineageIds = mv ? [...new Set(Object.values(mv.lineage).flatMap((l) => (typeof l?.cs === "number" ? [l.cs] : [])))] : [];
  // Former connectors: those that supplied a value (lineage), and those that remember the person as
  // the identity they lost (a deprovisioned account kept by disable or disconnect, a tombstone).
  const former = (
    await db.query<CsDbRow>(`${CS_SELECT} where (id = any($1::bigint[]) or last_mv_id = $2) and mv_id is null order by ma, id`, [lineageIds, mv?.id ?? null])
  ).rows;
  const objects = [...connectors, ...former];
  const ids = objects.map((o) => o.id);

  const pending = (
    await db.query<{ cs_id: number; ma: string; op: string; new_dn: string | null; changes: Record<string, unknown>; state: string; error: unknown; attempts: number; created_at: unknown; exported_at: unknown }>(
      `select cs_id, ma, op, new_dn, changes, state, error, attempts, created_at, exported_at from pending_export where cs_id = any($1::bigint[]) order by cs_id`,
      [ids],
    )
  ).rows;
  const anchorOf = new Map(objects.map((o) => [o.id, o.anchor]));
  const pendingExports: HeldExport[] = pending.map((p) => ({
    csId: p.cs_id, ma: p.ma, anchor: anchorOf.get(p.cs_id) ?? null, op: p.op, newDn: p.new_dn, changes: p.changes, state: p.state,
    error: p.error, attempts: p.attempts, createdAt: iso(p.created_at), exportedAt: iso(p.exported_at),
  }));

  const { errors, messages } = await historyMentioning(db, objects);

  // Reference attributes of other metaverse objects that point at this one.
  const referencedBy: SubjectRecord["referencedBy"] = [];
  if (mv) {
    const refAttrs = [...referenceAttributes(compiled)];
    if (refAttrs.length > 0) {
      const rows = (await db.query<{ id: number; attribute: string }>(
        `select m.id, a.attribute from mv_object m, unnest($2::text[]) a(attribute)
          where idsync_search_vector(m.attrs) @@ idsync_search_query($1, false) and m.id <> $3::bigint
            and (m.attrs->>a.attribute = $1 or (jsonb_typeof(m.attrs->a.attribute) = 'array' and jsonb_exists(m.attrs->a.attribute, $1)))
          order by m.id`,
        [String(mv.id), refAttrs, mv.id],
      )).rows;
      referencedBy.push(...rows.map((r) => ({ mvId: r.id, attribute: r.attribute })));
    }
  }

  const objectType = mv?.object_type ?? connectors[0]?.object_type ?? "";
  const sources = [...(compiled?.inboundByName.values() ?? [])].filter((r) => r.mvType === objectType).sort((a, b) => a.precedence - b.precedence || a.name.localeCompare(b.name));
  const anchored = objects.filter((o) => o.anchor !== null);
  const primary = sources.map((r) => anchored.find((o) => o.ma === r.ma)).find((o) => o) ?? anchored[0];
  return {
    generatedAt: now.toISOString(),
    subject: { mvId: mv?.id ?? null, objectType, primary: primary ? { ma: primary.ma, anchor: primary.anchor! } : null },
    metaverseObject: mv
      ? { id: mv.id, objectType: mv.object_type, attrs: mv.attrs, lineage: mv.lineage, createdAt: iso(mv.created_at), updatedAt: iso(mv.updated_at), deletedAt: iso(mv.deleted_at) }
      : null,
    attributes: mv ? explainAttributes(compiled, mv, connectors, pending) : [],
    connectors: connectors.map(held),
    formerConnectors: former.map(held),
    pendingExports,
    runErrors: errors,
    runMessages: messages,
    referencedBy,
  };
}

/**
 * Run errors tied to these objects (by id, or by MA and anchor), or whose text names one of their
 * anchors or DNs as a whole token; run messages that name one.
 */
export async function historyMentioning(
  db: Queryable,
  objects: Array<{ id: number; ma: string; anchor: string | null; dn: string | null }>,
): Promise<{ errors: SubjectRecord["runErrors"]; messages: SubjectRecord["runMessages"] }> {
  if (objects.length === 0) return { errors: [], messages: [] };
  const keyed = objects.filter((o) => o.anchor !== null);
  const patterns = [...new Set(objects.flatMap((o) => [o.anchor, o.dn]).filter((s): s is string => !!s && s.length >= 3))].map(tokenPattern);
  const errors = (
    await db.query<{ id: number; run_id: number; started_at: unknown; ma: string; cs_id: number | null; anchor: string | null; dn: string | null; code: string; message: string }>(
      `select e.id, e.run_id, h.started_at, e.ma, e.cs_id, e.anchor, e.dn, e.code, e.message
         from run_error e join run_history h on h.id = e.run_id
        where e.cs_id = any($1::bigint[])
           or (e.ma, e.anchor) in (select * from unnest($2::text[], $3::text[]))
           or e.message ~ any($4::text[]) or e.dn ~ any($4::text[]) or e.anchor ~ any($4::text[])
        order by e.id`,
      [objects.map((o) => o.id), keyed.map((o) => o.ma), keyed.map((o) => o.anchor), patterns],
    )
  ).rows;
  const messages = patterns.length === 0 ? [] : (
    await db.query<{ id: number; ma: string; profile: string; started_at: unknown; message: string }>(
      `select id, ma, profile, started_at, message from run_history where message ~ any($1::text[]) order by id`,
      [patterns],
    )
  ).rows;
  return {
    errors: errors.map((e) => ({ id: e.id, runId: e.run_id, at: iso(e.started_at), ma: e.ma, csId: e.cs_id, anchor: e.anchor, dn: e.dn, code: e.code, message: e.message })),
    messages: messages.map((m) => ({ runId: m.id, ma: m.ma, profile: m.profile, at: iso(m.started_at), message: m.message })),
  };
}

function explainAttributes(
  compiled: CompiledConfig | undefined,
  mv: { object_type: string; attrs: Record<string, unknown>; lineage: Record<string, { ma: string; rule: string; cs?: number; at?: string }> },
  connectors: CsDbRow[],
  pending: Array<{ cs_id: number; changes: Record<string, unknown>; state: string }>,
): HeldAttribute[] {
  const inbound = [...(compiled?.inboundByName.values() ?? [])].filter((r) => r.mvType === mv.object_type).sort((a, b) => a.precedence - b.precedence || a.name.localeCompare(b.name));
  const outbound = (compiled?.outbound ?? []).filter((r) => r.mvType === mv.object_type);
  const pe = new Map(pending.map((p) => [p.cs_id, p]));
  return Object.keys(mv.attrs).sort().map((name) => {
    const l = mv.lineage[name];
    const auth = inbound.find((r) => r.flows.some((f) => f.target === name));
    const exportedTo: HeldAttribute["exportedTo"] = [];
    for (const c of connectors) {
      for (const rule of outbound.filter((r) => r.ma === c.ma && r.targetType === c.object_type)) {
        for (const flow of rule.flows) {
          if (!flow.expr.reads.includes(name) || exportedTo.some((e) => e.ma === c.ma && e.attribute === flow.target)) continue;
          const p = pe.get(c.id);
          const entry: HeldAttribute["exportedTo"][number] = { ma: c.ma, object: `${c.ma}/${c.anchor ?? c.dn ?? `cs:${c.id}`}`, attribute: flow.target, value: c.attrs[flow.target] ?? null };
          if (p && flow.target in p.changes) Object.assign(entry, { pending: p.changes[flow.target], pendingState: p.state });
          exportedTo.push(entry);
        }
        if (rule.dn?.reads.includes(name) && !exportedTo.some((e) => e.ma === c.ma && e.attribute === "(dn)")) {
          exportedTo.push({ ma: c.ma, object: `${c.ma}/${c.anchor ?? `cs:${c.id}`}`, attribute: "(dn)", value: c.dn });
        }
      }
    }
    return {
      name,
      value: mv.attrs[name],
      suppliedBy: l ? { ma: l.ma, rule: l.rule, csId: l.cs ?? null, at: l.at ?? null } : null,
      authority: auth ? { ma: auth.ma, rule: auth.name, precedence: auth.precedence } : null,
      exportedTo,
    };
  });
}

/** The subject's name in the audit trail: the salted hash of their primary anchor (or metaverse id). */
export function subjectHashOf(salt: string, record: SubjectRecord): string {
  const p = record.subject.primary;
  return p ? anchorHash(salt, p.ma, p.anchor) : anchorHash(salt, "(metaverse)", String(record.subject.mvId));
}
