// `idsync search`, `idsync show`, `idsync history`: reading the sync state.
import { compileExpression } from "../../expr/index.ts";
import type { Database } from "../../store/index.ts";
import { openDb, UsageError, type GlobalOptions } from "../context.ts";
import { table, type Output } from "../output.ts";

export interface SearchOptions {
  ma?: string;
  type?: string;
  filter?: string;
  limit?: string;
}

export async function searchCommand(g: GlobalOptions, out: Output, opts: SearchOptions): Promise<number> {
  const limit = Number(opts.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got '${opts.limit}'`);
  let expr;
  try {
    expr = opts.filter ? compileExpression(opts.filter, { variable: opts.ma ? "object" : "mv" }) : undefined;
  } catch (e) {
    throw new UsageError(`--filter: ${(e as Error).message}`);
  }
  const db = await openDb(g);
  try {
    const found: Array<Record<string, unknown>> = [];
    let after = 0;
    const page = 5000;
    while (found.length < limit) {
      const rows = opts.ma
        ? (await db.query<{ id: number; object_type: string; anchor: string | null; dn: string | null; mv_id: number | null; attrs: Record<string, never> }>(
            `select id, object_type, anchor, dn, mv_id, attrs from cs_object where ma = $1 and id > $2 and ($3::text is null or object_type = $3) order by id limit $4`,
            [opts.ma, after, opts.type ?? null, page],
          )).rows
        : (await db.query<{ id: number; object_type: string; attrs: Record<string, never> }>(
            `select id, object_type, attrs from mv_object where deleted_at is null and id > $1 and ($2::text is null or object_type = $2) order by id limit $3`,
            [after, opts.type ?? null, page],
          )).rows;
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      for (const r of rows) {
        let match = true;
        try {
          match = expr ? expr.test(r.attrs) : true;
        } catch {
          match = false;
        }
        if (match) found.push(r);
        if (found.length >= limit) break;
      }
    }
    if (out.format === "json") out.json({ scope: opts.ma ? `connector space ${opts.ma}` : "metaverse", objects: found });
    else {
      for (const r of found) {
        const id = opts.ma ? `${opts.ma}/${r.anchor ?? `(dn ${r.dn})`}` : `mv ${r.id}`;
        out.line(`${id} [${r.object_type}] ${JSON.stringify(r.attrs)}`);
      }
      out.line(`${found.length} object(s)${found.length >= limit ? ` (limit ${limit}; use --limit)` : ""}`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

interface CsRef {
  id: number;
  ma: string;
  object_type: string;
  anchor: string | null;
  dn: string | null;
  mv_id: number | null;
  link: string;
}

/** Finds the object a user names: an MV id, ma/anchor, or a bare anchor that is unambiguous. */
export async function resolveSubject(db: Database, name: string): Promise<{ mvId?: number; cs?: CsRef }> {
  if (/^\d+$/.test(name)) {
    const mv = await db.query(`select id from mv_object where id = $1`, [Number(name)]);
    if (mv.rows.length > 0) return { mvId: Number(name) };
  }
  const slash = name.indexOf("/");
  const rows =
    slash > 0
      ? (await db.query<CsRef>(`select id, ma, object_type, anchor, dn, mv_id, link from cs_object where ma = $1 and anchor = $2`, [name.slice(0, slash), name.slice(slash + 1)])).rows
      : (await db.query<CsRef>(`select id, ma, object_type, anchor, dn, mv_id, link from cs_object where anchor = $1 order by ma`, [name])).rows;
  if (rows.length === 0) throw new UsageError(`no metaverse object or connector-space object named '${name}'`);
  const mvIds = new Set(rows.map((r) => r.mv_id));
  if (rows.length > 1 && (mvIds.size > 1 || mvIds.has(null))) {
    throw new UsageError(`'${name}' is ambiguous; name one of:\n${rows.map((r) => `  ${r.ma}/${r.anchor}`).join("\n")}`);
  }
  return rows[0].mv_id !== null ? { mvId: rows[0].mv_id, cs: rows[0] } : { cs: rows[0] };
}

export async function showCommand(g: GlobalOptions, out: Output, name: string): Promise<number> {
  const db = await openDb(g);
  try {
    const subject = await resolveSubject(db, name);
    if (subject.mvId === undefined) {
      const cs = (await db.query(`select id, ma, object_type, anchor, dn, link, attrs, pending_import from cs_object where id = $1`, [subject.cs!.id])).rows[0];
      if (out.format === "json") out.json({ connectorSpaceObject: cs });
      else {
        out.line(`${subject.cs!.ma}/${subject.cs!.anchor}: a ${subject.cs!.link} disconnector (not linked to the metaverse)`);
        out.line(JSON.stringify(cs.attrs, null, 2));
      }
      return 0;
    }
    const mv = (await db.query<{ id: number; object_type: string; attrs: Record<string, unknown>; lineage: Record<string, { ma: string; rule: string; at: string }>; deleted_at: string | null }>(
      `select id, object_type, attrs, lineage, deleted_at from mv_object where id = $1`,
      [subject.mvId],
    )).rows[0];
    const connectors = (await db.query(
      `select c.id, c.ma, c.object_type, c.anchor, c.dn, c.link, c.linked_at, p.op as pending_op, p.state as pending_state
         from cs_object c left join pending_export p on p.cs_id = c.id where c.mv_id = $1 order by c.ma`,
      [mv.id],
    )).rows;
    if (out.format === "json") {
      out.json({ metaverseObject: mv, connectors });
      return 0;
    }
    out.line(`metaverse object ${mv.id} [${mv.object_type}]${mv.deleted_at ? ` DELETED at ${new Date(mv.deleted_at).toISOString()}` : ""}`);
    out.line(
      table(
        ["attribute", "value", "from (MA / rule)", "since"],
        Object.entries(mv.attrs).map(([k, v]) => [k, JSON.stringify(v), mv.lineage[k] ? `${mv.lineage[k].ma} / ${mv.lineage[k].rule}` : "", mv.lineage[k]?.at ?? ""]),
      ),
    );
    out.line();
    out.line("connectors:");
    for (const c of connectors) {
      out.line(`  ${c.ma}/${c.anchor ?? "(anchor pending)"} [${c.object_type}] ${c.link}${c.dn ? ` dn=${c.dn}` : ""}${c.pending_op ? ` pending ${c.pending_op} (${c.pending_state})` : ""}`);
    }
    return 0;
  } finally {
    await db.close();
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
