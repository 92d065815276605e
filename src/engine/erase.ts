// Erasing a data subject: their metaverse object, every connector-space object that holds them,
// their pending exports, lineage and history, with their accounts deprovisioned as the outbound
// rules declare (or, with keepTargets, only disconnected). Steps:
//   1. plan: what each connector-space object becomes (a dry run stops here);
//   2. mark the metaverse object deleted and dirty, take its id out of others' references;
//   3. a delta sync: its settle phase computes the deprovisioning the outbound rules declare;
//   4. send this subject's deprovisioning exports, and only theirs (not the MA's whole queue);
//   5. in one transaction: remove the rows, scrub run history and others' references, suppress the
//      anchors (salted hashes) so the next import does not re-create them, write the audit record.
// An account whose deprovisioning could not be sent stays as an empty row (anchor and DN only) with
// its pending export, so that the next export run retries it; everything else is gone.
import type { PathPolicy } from "../config/paths.ts";
import type { ExportOperation, ValueChange } from "../connectors/types.ts";
import { normalizeDN } from "../expr/dn.ts";
import { recordAudit } from "../privacy/audit.ts";
import { collectSubject, historyMentioning, subjectHashOf, type HeldObject, type SubjectRecord } from "../privacy/collect.ts";
import { existingSalt, privacySalt, suppress } from "../privacy/hash.ts";
import { redactHistoryText, scrubReferenceValues } from "../privacy/scrub.ts";
import type { Subject } from "../privacy/subject.ts";
import type { Queryable } from "../store/db.ts";
import { createConnector, type SecretResolver } from "./connectors.ts";
import { detachReferences, referenceAttributes } from "./detach.ts";
import type { Engine } from "./index.ts";
import { compileConfig, type CompiledConfig } from "./rules.ts";

/** What happens to one connector-space object: `remove` the copy; deprovision per the outbound rule. */
export type EraseAction = "remove" | "delete" | "disable" | "disconnect";

export interface EraseEntry {
  csId: number;
  ma: string;
  anchor: string | null;
  dn: string | null;
  connected: boolean;
  action: EraseAction;
  /** done; held (staging mode: nothing is sent); failed (the export failed: retried by the next export run). */
  outcome?: "done" | "held" | "failed";
  detail?: string;
}

export interface EraseOptions {
  keepTargets?: boolean;
  dryRun?: boolean;
  actor: string;
  now?: Date;
  secrets: SecretResolver;
  /** Where connectors' files may lie (config/paths.ts); absent: anywhere. */
  paths?: PathPolicy;
}

export interface SourceGuidance {
  ma: string;
  anchor: string | null;
  filter?: string;
  scopes: Array<{ rule: string; scope: string }>;
}

export interface EraseReport {
  dryRun: boolean;
  subjectHash: string;
  mvId: number | null;
  entries: EraseEntry[];
  counts: {
    metaverseObjects: number;
    connectorSpaceObjects: number;
    pendingExports: number;
    runErrors: number;
    runMessages: number;
    referencingObjects: number;
    suppressed: number;
    redactedTexts: number;
  };
  /** Source MAs that still hold the person: the erasure lasts through the suppression list only. */
  sources: SourceGuidance[];
}

export async function eraseSubject(engine: Engine, subject: Subject, opts: EraseOptions): Promise<EraseReport> {
  // An erasure reads the person everywhere and then removes them everywhere: no run may stage,
  // join or provision them in between (it holds every run lock; its own sync takes nothing more).
  if (opts.dryRun) return erase(engine, subject, opts);
  return engine.exclusive("subject erase", () => erase(engine, subject, opts));
}

async function erase(engine: Engine, subject: Subject, opts: EraseOptions): Promise<EraseReport> {
  const db = engine.database;
  const config = engine.config();
  const compiled = config ? compileConfig(config) : undefined;
  const now = opts.now ?? new Date();
  const record = await collectSubject(db, config, subject, now);
  const mvId = record.metaverseObject?.id ?? null;
  const mvType = record.metaverseObject?.objectType;
  const objects = [...record.connectors, ...record.formerConnectors];
  const entries: EraseEntry[] = objects.map((o) => ({
    csId: o.id, ma: o.ma, anchor: o.anchor, dn: o.dn, connected: o.connected, action: actionFor(compiled, mvType, o, opts.keepTargets === true),
  }));
  // A dry run changes nothing, not even the salt's first generation: no hash then.
  const salt = opts.dryRun ? await existingSalt(db) : await privacySalt(db);
  const report: EraseReport = {
    dryRun: opts.dryRun === true,
    subjectHash: salt ? subjectHashOf(salt, record) : "",
    mvId,
    entries,
    counts: {
      metaverseObjects: mvId === null ? 0 : 1,
      connectorSpaceObjects: objects.length,
      pendingExports: record.pendingExports.length,
      runErrors: record.runErrors.length,
      runMessages: record.runMessages.length,
      referencingObjects: record.referencedBy.length,
      suppressed: 0,
      redactedTexts: 0,
    },
    sources: sourceGuidance(compiled, mvType, objects),
  };
  if (opts.dryRun) return report;
  const sensitive = await sensitiveValues(db, compiled, record, objects);
  const ids = objects.map((o) => o.id);

  await db.transaction(async (tx) => {
    // Nothing of theirs is processed by the sync below but the deprovisioning itself.
    await tx.query(`update cs_object set pending_import = null where id = any($1::bigint[])`, [ids]);
    const leaving = entries.filter((e) => e.action === "remove" || e.action === "disconnect").map((e) => e.csId);
    await tx.query(
      `update cs_object set mv_id = null, link = 'normal', contrib = null, unresolved_refs = null, unresolved_out = null where id = any($1::bigint[])`,
      [leaving],
    );
    await tx.query(`delete from pending_export where cs_id = any($1::bigint[])`, [leaving]);
    if (mvId !== null) {
      await tx.query(`update mv_object set deleted_at = coalesce(deleted_at, $2::timestamptz), dirty = true where id = $1`, [mvId, now.toISOString()]);
      report.counts.referencingObjects = await detachReferences(tx, compiled, [mvId]);
    }
  });

  // Any MA's delta sync ends with the settle phase, which processes every dirty metaverse object.
  const syncVia = compiled ? [...compiled.mas.keys()].sort()[0] : undefined;
  if (syncVia !== undefined && mvId !== null) {
    const sync = await engine.run(syncVia, "delta-sync");
    if (sync.status === "failed") {
      throw new Error(`the sync that deprovisions failed (${sync.message}); metaverse object ${mvId} is marked deleted: run the erasure again`);
    }
  }
  await sendDeprovisioning(db, compiled, entries.filter((e) => e.action === "delete" || e.action === "disable"), opts.secrets, opts.paths);

  await db.transaction(async (tx) => {
    const held = entries.filter((e) => e.outcome === "held" || e.outcome === "failed").map((e) => e.csId);
    // What the target must still be told needs only the anchor and DN: the rest goes now.
    await tx.query(
      `update cs_object set attrs = '{}', contrib = null, unresolved_refs = null, unresolved_out = null, pending_import = null where id = any($1::bigint[])`,
      [held],
    );
    const history = await historyMentioning(tx, objects);
    await tx.query(`delete from run_error where id = any($1::bigint[])`, [history.errors.map((e) => e.id)]);
    report.counts.runErrors = history.errors.length;
    const removed = objects.filter((o) => !held.includes(o.id));
    await tx.query(`delete from cs_object where id = any($1::bigint[])`, [removed.map((o) => o.id)]);
    if (mvId !== null) await tx.query(`delete from mv_object where id = $1`, [mvId]);
    for (const ma of new Set(objects.map((o) => o.ma))) {
      const mine = objects.filter((o) => o.ma === ma);
      const values = [...new Set(mine.flatMap((o) => [o.anchor, o.dn]).filter((v): v is string => !!v))];
      await scrubReferenceValues(tx, ma, values, referenceTypedAttributes(compiled, ma), ids);
    }
    report.counts.redactedTexts = await redactHistoryText(tx, sensitive);
    report.counts.suppressed = await suppress(tx, removed.map((o) => ({ ma: o.ma, anchor: o.anchor, dnNorm: o.dn ? normalizeDN(o.dn) : null })), now);
    await recordAudit(tx, {
      at: now,
      actor: opts.actor,
      action: "subject-erase",
      subjectHash: report.subjectHash,
      details: {
        mode: opts.keepTargets ? "keep-targets" : "deprovision",
        ...report.counts,
        targetDeletes: entries.filter((e) => e.action === "delete" && e.outcome === "done").length,
        targetDisables: entries.filter((e) => e.action === "disable" && e.outcome === "done").length,
        targetsKept: entries.filter((e) => e.action === "disconnect").length,
        awaitingDeprovisioning: held.length,
      },
    });
  });
  for (const e of entries) e.outcome ??= "done";
  return report;
}

function actionFor(compiled: CompiledConfig | undefined, mvType: string | undefined, o: HeldObject, keepTargets: boolean): EraseAction {
  if (mvType === undefined || !o.connected) return "remove";
  const rule = compiled?.outbound.find((r) => r.ma === o.ma && r.targetType === o.objectType && r.mvType === mvType);
  if (!rule) return "remove";
  return keepTargets ? "disconnect" : rule.deprovision;
}

function sourceGuidance(compiled: CompiledConfig | undefined, mvType: string | undefined, objects: HeldObject[]): SourceGuidance[] {
  const out: SourceGuidance[] = [];
  for (const o of objects) {
    const ma = compiled?.mas.get(o.ma);
    const rules = ma?.inbound.filter((r) => r.sourceType === o.objectType && (mvType === undefined || r.mvType === mvType)) ?? [];
    if (!ma || rules.length === 0) continue;
    out.push({
      ma: o.ma,
      anchor: o.anchor,
      filter: ma.resource.spec.filter,
      scopes: rules.flatMap((r) => (r.scope ? [{ rule: r.name, scope: r.scope.text }] : [])),
    });
  }
  return out;
}

/** Attributes of an MA declared `type: reference` (their values are other objects' anchors or DNs). */
function referenceTypedAttributes(compiled: CompiledConfig | undefined, ma: string): Set<string> {
  const out = new Set<string>();
  for (const t of compiled?.mas.get(ma)?.types.values() ?? []) for (const a of t.attributes.values()) if (a.type === "reference") out.add(a.name);
  return out;
}

/**
 * Values that identify this subject in free text: their anchors and DNs, and every other value
 * of theirs that no other object holds (a department name shared by hundreds is not theirs to erase).
 */
async function sensitiveValues(db: Queryable, compiled: CompiledConfig | undefined, record: SubjectRecord, objects: HeldObject[]): Promise<string[]> {
  const refs = referenceAttributes(compiled);
  // Shorter than 3 characters, a value is too likely to be part of any text ("7 deletes").
  const identifiers = objects.flatMap((o) => [o.anchor, o.dn]).filter((v): v is string => !!v && v.length >= 3);
  const values = new Set<string>();
  const add = (attrs: Record<string, unknown>, skip: Set<string>) => {
    for (const [k, v] of Object.entries(attrs)) {
      if (skip.has(k)) continue;
      for (const x of Array.isArray(v) ? v : [v]) if ((typeof x === "string" || typeof x === "number") && String(x).length >= 3) values.add(String(x));
    }
  };
  if (record.metaverseObject) add(record.metaverseObject.attrs, refs);
  for (const o of objects) add(o.attrs, referenceTypedAttributes(compiled, o.ma));
  for (const p of record.pendingExports) add(p.changes, referenceTypedAttributes(compiled, p.ma));
  const candidates = [...values].filter((v) => !identifiers.includes(v));
  const own = (
    await db.query<{ v: string }>(
      `select v from unnest($1::text[]) v
        where not exists (select 1 from mv_object m where idsync_search_vector(m.attrs) @@ idsync_search_query(v, false) and m.id is distinct from $2::bigint)
          and not exists (select 1 from cs_object c where idsync_search_vector(c.attrs, c.anchor, c.dn) @@ idsync_search_query(v, false) and not (c.id = any($3::bigint[])))`,
      [candidates, record.metaverseObject?.id ?? null, objects.map((o) => o.id)],
    )
  ).rows.map((r) => r.v);
  // Longest first: a value that contains another is replaced whole.
  return [...new Set([...identifiers, ...own])].sort((a, b) => b.length - a.length);
}

/** Sends the subject's pending deprovisioning exports, MA by MA; sets each entry's outcome. */
async function sendDeprovisioning(db: Queryable, compiled: CompiledConfig | undefined, entries: EraseEntry[], secrets: SecretResolver, paths?: PathPolicy): Promise<void> {
  for (const ma of new Set(entries.map((e) => e.ma))) {
    const mine = entries.filter((e) => e.ma === ma);
    const rows = (
      await db.query<{ cs_id: number; op: "add" | "update" | "delete"; new_dn: string | null; changes: Record<string, unknown>; state: string; object_type: string; anchor: string | null; dn: string | null; attrs: Record<string, unknown> }>(
        `select p.cs_id, p.op, p.new_dn, p.changes, p.state, c.object_type, c.anchor, c.dn, c.attrs
           from pending_export p join cs_object c on c.id = p.cs_id where p.cs_id = any($1::bigint[])`,
        [mine.map((e) => e.csId)],
      )
    ).rows;
    const toSend = rows.filter((r) => r.state !== "unconfirmed" && r.op !== "add");
    // No pending export: nothing reached the target, or nothing was left to change there.
    for (const e of mine) if (!toSend.some((r) => r.cs_id === e.csId)) e.outcome = "done";
    if (toSend.length === 0) continue;
    const target = compiled?.mas.get(ma);
    const byId = new Map(mine.map((e) => [String(e.csId), e]));
    if (!target || target.stagingMode) {
      for (const r of toSend) Object.assign(byId.get(String(r.cs_id))!, { outcome: "held", detail: target ? "staging mode: nothing is sent" : "MA not applied" });
      continue;
    }
    const ops: ExportOperation[] = toSend.map((r) => {
      const base = { id: String(r.cs_id), objectType: r.object_type, anchor: r.anchor ?? undefined, dn: r.dn ?? undefined };
      if (r.op === "delete") return { op: "delete", ...base };
      const changes: Record<string, ValueChange> = {};
      for (const [a, v] of Object.entries(r.changes)) changes[a] = r.attrs[a] !== undefined ? { replace: v as ValueChange["replace"], previous: r.attrs[a] as ValueChange["replace"] } : { replace: v as ValueChange["replace"] };
      return { op: "update", ...base, newDn: r.new_dn ?? undefined, changes };
    });
    const connector = await createConnector(target, secrets, paths);
    try {
      const results = await connector.export(ops);
      for (const res of results) {
        const e = byId.get(res.id);
        if (!e) continue;
        if (res.ok) e.outcome = "done";
        else {
          Object.assign(e, { outcome: "failed", detail: res.code });
          await db.query(`update pending_export set state = 'error', error = $2::jsonb, attempts = attempts + 1 where cs_id = $1`, [e.csId, JSON.stringify({ code: res.code })]);
        }
      }
    } catch (err) {
      for (const r of toSend) Object.assign(byId.get(String(r.cs_id))!, { outcome: "failed", detail: `${ma} is unavailable` });
      void err; // its message may name the object: not kept
    } finally {
      await connector.close();
    }
    for (const r of toSend) if (byId.get(String(r.cs_id))!.outcome === undefined) Object.assign(byId.get(String(r.cs_id))!, { outcome: "failed", detail: "no result" });
  }
}
