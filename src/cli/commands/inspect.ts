// `idsync search`, `idsync show`, `idsync history`: reading the sync state. Search and show are the
// personal-data views (src/privacy/): search by value across the metaverse and every connector
// space; show one subject with its lineage, source of authority and where each value went.
import { personalAttributes, redactor } from "../../privacy/redact.ts";
import { collectSubject, type SubjectRecord } from "../../privacy/collect.ts";
import { searchObjects, SearchError, type SearchHit, type SearchScope } from "../../privacy/search.ts";
import { AmbiguousSubject, resolveSubject as resolveSubjectName, SubjectNotFound, type Subject } from "../../privacy/subject.ts";
import type { Queryable } from "../../store/index.ts";
import { openDb, openEngineFor, UsageError, type GlobalOptions } from "../context.ts";
import { table, type Output } from "../output.ts";

export interface SearchOptions {
  /** The value to look for (the command's argument). */
  value?: string;
  ma?: string;
  type?: string;
  filter?: string;
  limit?: string;
  attribute?: string;
  prefix?: boolean;
  caseSensitive?: boolean;
  in?: SearchScope;
  after?: string;
  redact?: boolean;
}

export async function searchCommand(g: GlobalOptions, out: Output, opts: SearchOptions): Promise<number> {
  let value = opts.value;
  let prefix = opts.prefix === true;
  // "Smi*": a prefix, as people type it.
  if (value !== undefined && value.length > 1 && value.endsWith("*") && !prefix) {
    value = value.slice(0, -1);
    prefix = true;
  }
  // Default: everywhere for a value or a filter (a filter over `object` means the connector spaces),
  // the metaverse for a plain listing (as before).
  const scope: SearchScope = opts.in ?? (opts.ma ? "connectors" : value !== undefined || opts.filter ? "all" : "metaverse");
  if (opts.ma && scope === "metaverse") throw new UsageError("--ma searches a connector space: it cannot be combined with --in metaverse");
  const engine = await openEngineFor(g);
  try {
    const redact = redactor(personalAttributes(engine.config()), opts.redact === true);
    let result;
    try {
      result = await searchObjects(engine.database, {
        value,
        attribute: opts.attribute,
        prefix,
        caseSensitive: opts.caseSensitive === true,
        scope,
        ma: opts.ma,
        type: opts.type,
        filter: opts.filter,
        limit: Number(opts.limit ?? 50),
        after: opts.after,
      });
    } catch (e) {
      if (e instanceof SearchError) throw new UsageError(e.message);
      throw e;
    }
    const shown = (h: SearchHit) => Object.fromEntries(Object.entries(h.attrs).map(([k, v]) => [k, redact(k, v)]));
    if (out.format === "json") {
      out.json({ hits: result.hits.map((h) => ({ ...h, attrs: shown(h) })), next: result.next ?? null });
      return 0;
    }
    for (const h of result.hits) {
      const attrs = shown(h);
      const values = value === undefined ? JSON.stringify(attrs) : h.matched.map((m) => (m.startsWith("(") ? m : `${m}=${JSON.stringify(attrs[m])}`)).join(" ");
      const link = h.kind === "connector-space" && h.mvId !== null ? ` → mv:${h.mvId}` : "";
      out.line(`${h.name} [${h.objectType}] ${h.state}${link}  ${values}`);
    }
    out.line(`${result.hits.length} object(s)${result.next ? `; next page: --after ${result.next}` : ""}`);
    return 0;
  } finally {
    await engine.close();
  }
}

/** Finds the subject a user names (see src/privacy/subject.ts); an ambiguous name lists the candidates. */
export async function resolveSubject(db: Queryable, name: string): Promise<Subject> {
  try {
    return await resolveSubjectName(db, name);
  } catch (e) {
    if (e instanceof AmbiguousSubject || e instanceof SubjectNotFound) throw new UsageError(e.message);
    throw e;
  }
}

export async function showCommand(g: GlobalOptions, out: Output, name: string, opts: { redact?: boolean } = {}): Promise<number> {
  const engine = await openEngineFor(g);
  try {
    const subject = await resolveSubject(engine.database, name);
    const record = await collectSubject(engine.database, engine.config(), subject);
    const redact = redactor(personalAttributes(engine.config()), opts.redact === true);
    if (opts.redact) redactRecord(record, redact);
    if (out.format === "json") out.json(record);
    else printRecord(out, record);
    return 0;
  } finally {
    await engine.close();
  }
}

function redactRecord(r: SubjectRecord, redact: (a: string, v: unknown) => unknown): void {
  const each = (attrs: Record<string, unknown>) => {
    for (const k of Object.keys(attrs)) attrs[k] = redact(k, attrs[k]);
  };
  if (r.metaverseObject) each(r.metaverseObject.attrs);
  for (const a of r.attributes) {
    a.value = redact(a.name, a.value);
    for (const e of a.exportedTo) {
      e.value = redact(a.name, e.value);
      if ("pending" in e) e.pending = redact(a.name, e.pending);
    }
  }
  for (const c of [...r.connectors, ...r.formerConnectors]) {
    each(c.attrs);
    for (const v of Object.values(c.contributions ?? {})) each(v);
  }
  for (const p of r.pendingExports) each(p.changes);
}

const when = (iso: string | null) => (iso ? iso.replace(/\.\d{3}Z$/, "Z") : "");
const show = (v: unknown) => (v === undefined ? "" : JSON.stringify(v));

function printRecord(out: Output, r: SubjectRecord): void {
  const mv = r.metaverseObject;
  if (mv) {
    out.line(`metaverse object mv:${mv.id} [${mv.objectType}] ${mv.deletedAt ? `DELETED at ${when(mv.deletedAt)} (kept for the grace period)` : "live"}, created ${when(mv.createdAt)}`);
    out.line(
      table(
        ["attribute", "value", "supplied by (MA / rule, since)", "source of authority", "exported to"],
        r.attributes.map((a) => [
          a.name,
          show(a.value),
          a.suppliedBy ? `${a.suppliedBy.ma} / ${a.suppliedBy.rule}, ${when(a.suppliedBy.at)}` : "",
          a.authority ? (a.suppliedBy && a.authority.ma !== a.suppliedBy.ma ? `${a.authority.ma} (supplies none)` : a.authority.ma) : "",
          a.exportedTo.map((e) => `${e.object}.${e.attribute}=${show(e.value)}${"pending" in e ? ` (${e.pendingState}: ${show(e.pending)})` : ""}`).join("; "),
        ]),
      ),
    );
  } else {
    out.line("not in the metaverse: a connector-space object only (a disconnector)");
  }
  out.line();
  out.line("connectors:");
  if (r.connectors.length === 0) out.line("  (none)");
  const pe = new Map(r.pendingExports.map((p) => [p.csId, p]));
  for (const c of [...r.connectors, ...r.formerConnectors]) {
    const p = pe.get(c.id);
    const former = !c.connected && mv ? " (former connector)" : "";
    out.line(
      `  ${c.ma}/${c.anchor ?? `cs:${c.id}`} [${c.objectType}] ${c.link}${former}${c.deleted ? " deleted in its system" : ""}${c.dn ? ` dn=${c.dn}` : ""}` +
        `${c.importedAt ? `, imported ${when(c.importedAt)}` : ", never imported"}${p ? `, export ${p.op} ${p.state}` : ""}`,
    );
    if (!mv) out.line("    " + JSON.stringify(c.attrs));
  }
  if (r.referencedBy.length > 0) out.line(`referenced by: ${r.referencedBy.map((x) => `mv:${x.mvId} (${x.attribute})`).join(", ")}`);
  if (r.runErrors.length + r.runMessages.length > 0) {
    out.line(`run history mentioning them: ${r.runErrors.length} object error(s), ${r.runMessages.length} run message(s) (idsync subject export has them)`);
  }
}

export async function historyCommand(g: GlobalOptions, out: Output, runId: string | undefined, opts: { ma?: string; limit?: string }): Promise<number> {
  const db = await openDb(g);
  try {
    if (runId) {
      const run = (await db.query(`select * from run_history where id = $1`, [Number(runId)])).rows[0];
      if (!run) throw new UsageError(`no run ${runId}`);
      const errors = (await db.query(`select ma, cs_id, anchor, dn, code, message from run_error where run_id = $1 order by id`, [Number(runId)])).rows;
      if (out.format === "json") out.json({ run, errors });
      else {
        out.line(`run ${run.id}: ${run.ma} ${run.profile} ${run.status} ${run.message ?? ""}`);
        out.line(JSON.stringify(run.counts));
        for (const e of errors) out.line(`  ${e.anchor ?? e.cs_id ?? ""}: ${e.code}: ${e.message}`);
      }
      return 0;
    }
    const rows = (await db.query<{ id: number; ma: string; profile: string; status: string; counts: Record<string, number>; started_at: string; finished_at: string | null; message: string | null }>(
      `select id, ma, profile, status, counts, started_at, finished_at, message from run_history where ($1::text is null or ma = $1) order by id desc limit $2`,
      [opts.ma ?? null, Number(opts.limit ?? 20)],
    )).rows;
    if (out.format === "json") out.json({ runs: rows });
    else {
      out.line(
        table(
          ["run", "MA", "profile", "status", "adds", "updates", "deletes", "errors", "started"],
          rows.map((r) => [r.id, r.ma, r.profile, r.status, r.counts.adds ?? 0, r.counts.updates ?? 0, r.counts.deletes ?? 0, r.counts.errors ?? 0, new Date(r.started_at).toISOString()]),
        ),
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}
