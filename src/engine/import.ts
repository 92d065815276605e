// Import: stage what a connector reads into the MA's connector space, object by object computing an
// add / update / delete, and confirm (or refute) earlier exports. Nothing in the metaverse changes.
import type { Connector, ImportedObject, ImportProblem } from "../connectors/types.ts";
import { normalizeDN } from "../expr/dn.ts";
import {
  BULK_CHANGE,
  csByAnchors,
  csByDnNorm,
  pendingExportsFor,
  refreshStatistics,
  settleConfirmedDeletes,
  updateRows,
  type CsRow,
  type Queryable,
} from "../store/index.ts";
import { withoutSuppressed } from "../privacy/hash.ts";
import { SourceMissingError } from "../connectors/errors.ts";
import { deletesAllowed, heldAsEmpty, neverReadOrWritten } from "./import-guard.ts";
import { isUnstorableText, unstorableAttribute, withoutAmbiguous } from "./import-checks.ts";
import { checkCancelled, type EngineContext } from "./context.ts";
import type { CompiledMA } from "./rules.ts";
import type { RunRecorder } from "./run.ts";
import { attributesEqual, compactAttributes, dnValuesEqual, valuesEqual } from "./values.ts";

export async function runImport(
  ctx: EngineContext,
  maName: string,
  mode: "full" | "delta",
  connector: Connector,
  run: RunRecorder,
): Promise<void> {
  try {
    await importFrom(ctx, maName, mode, connector, run);
  } catch (e) {
    if (!(e instanceof SourceMissingError)) throw e;
    // A target file the first export has yet to create is not a vanished source.
    if (await neverReadOrWritten(ctx, maName)) {
      run.message = `${e.message} yet; nothing to import until the first export creates it`;
      return;
    }
    throw new SourceMissingError(`${e.message}: the source is gone, which is not the same as empty; nothing was imported or deleted`);
  }
}

async function importFrom(ctx: EngineContext, maName: string, mode: "full" | "delta", connector: Connector, run: RunRecorder): Promise<void> {
  const seen = new Set<number>();
  // Anchors of records that could not be read: not seen, but certainly not deleted either.
  const unreadable = new Set<string>();
  let done = 0;
  let read = 0;
  let problemCount = 0;
  const progress = (n: number) => {
    done += n;
    ctx.options.onProgress?.(done, undefined, `import ${maName}`);
  };
  const problems = (list: ImportProblem[] | undefined) => {
    problemCount += list?.length ?? 0;
    for (const p of list ?? []) if (p.anchor) unreadable.add(p.anchor);
    for (const p of list ?? []) run.error({ anchor: p.anchor, dn: p.location, code: p.code, message: `${p.location}: ${p.message}` });
  };
  const profile = mode === "full" ? "full-import" : "delta-import";
  if (mode === "full") {
    for await (const batch of connector.fullImport()) {
      checkCancelled(ctx);
      problems(batch.problems);
      read += batch.items.length;
      await stageBatch(ctx, maName, batch.items, seen, unreadable, run, connector.referenceBy);
      await run.flushErrors();
      progress(batch.items.length);
    }
    if (!(await heldAsEmpty(ctx, maName, read + problemCount, run, profile))) await sweep(ctx, maName, seen, unreadable, run, profile);
    if (run.counts.adds + run.counts.updates >= BULK_CHANGE) await refreshStatistics(ctx.db, ["cs_object"]);
    return;
  }
  const watermark = (await ctx.db.query<{ value: string }>(`select value from watermark where ma = $1`, [maName])).rows[0]?.value;
  const delta = await connector.deltaImport(watermark ?? undefined);
  // Deletes are applied after the last batch, all or none: the deletion guard needs their number.
  const deletes: Array<{ anchor?: string; dn?: string }> = [];
  for await (const batch of delta.batches) {
    checkCancelled(ctx);
    problems(batch.problems);
    const upserts: ImportedObject[] = [];
    for (const c of batch.items) {
      if (c.kind === "upsert") upserts.push(c.object);
      else deletes.push({ anchor: c.anchor, dn: c.dn });
    }
    read += upserts.length;
    await stageBatch(ctx, maName, upserts, seen, unreadable, run, connector.referenceBy);
    await run.flushErrors();
    progress(batch.items.length);
  }
  let held: boolean;
  if (delta.mode === "snapshot") {
    held = (await heldAsEmpty(ctx, maName, read + problemCount, run, profile)) || !(await sweep(ctx, maName, seen, unreadable, run, profile));
  } else {
    held = !(await applyDeletes(ctx, maName, deletes, run, profile));
  }
  if (run.counts.adds + run.counts.updates >= BULK_CHANGE) await refreshStatistics(ctx.db, ["cs_object"]);
  // Held deletes, and records that could not be read, must be seen (and reported) again by the next
  // delta until the source is fixed: the watermark stays where it was.
  const next = held || problemCount > 0 ? undefined : await delta.watermark();
  if (next !== undefined) {
    await ctx.db.query(
      `insert into watermark (ma, value, updated_at) values ($1, $2, now())
       on conflict (ma) do update set value = excluded.value, updated_at = now()`,
      [maName, next],
    );
  }
}

/**
 * Stages one batch in its own transaction. A value PostgreSQL cannot store (a NUL character, a
 * broken surrogate pair) fails the whole statement; the batch is then staged again without the
 * objects that hold one, each of which becomes an object error (with its DN or anchor and the
 * attribute) and is kept as it was, not deleted. Checked only after such a failure: the common
 * case pays nothing.
 */
async function stageBatch(
  ctx: EngineContext,
  ma: string,
  objects: ImportedObject[],
  seen: Set<number>,
  unreadable: Set<string>,
  run: RunRecorder,
  referenceBy: "anchor" | "dn",
): Promise<void> {
  objects = withoutAmbiguous(objects, unreadable, run);
  try {
    await ctx.db.transaction((tx) => stage(tx, ctx, ma, objects, seen, run, referenceBy));
  } catch (e) {
    if (!isUnstorableText(e)) throw e;
    const good: ImportedObject[] = [];
    for (const o of objects) {
      const bad = unstorableAttribute(o);
      if (bad === undefined) {
        good.push(o);
        continue;
      }
      unreadable.add(o.anchor);
      run.error({ anchor: o.anchor, dn: o.dn, code: "invalid-value", message: `${o.dn ?? o.anchor}: ${bad}` });
    }
    if (good.length === objects.length) throw e; // not a value of ours after all
    await ctx.db.transaction((tx) => stage(tx, ctx, ma, good, seen, run, referenceBy));
  }
}

async function stage(
  tx: Queryable,
  ctx: EngineContext,
  ma: string,
  objects: ImportedObject[],
  seen: Set<number>,
  run: RunRecorder,
  referenceBy: "anchor" | "dn",
): Promise<void> {
  // Privacy: anchors erased by `idsync subject erase` are not staged again while the source still
  // has them (the suppression list, src/privacy/hash.ts; `idsync subject unsuppress` lifts it).
  objects = await withoutSuppressed(tx, ma, objects, normalizeDN);
  if (objects.length === 0) return;
  const now = ctx.now().toISOString();
  const compiled = ctx.config.mas.get(ma);
  const matters = compiled ? attributesThatMatter(compiled) : new Set<string>();
  const equal = attributeComparer(ctx, ma, referenceBy);
  const byAnchor = new Map<string, CsRow>();
  for (const r of await csByAnchors(tx, ma, objects.map((o) => o.anchor))) byAnchor.set(r.anchor!, r);
  // A provisioned object whose system assigns the anchor is known by its DN until now.
  const byDn = new Map<string, CsRow>();
  const dnLookups = objects.filter((o) => o.dn && !byAnchor.has(o.anchor)).map((o) => normalizeDN(o.dn!));
  for (const r of await csByDnNorm(tx, ma, dnLookups)) if (r.anchor === null) byDn.set(r.dn_norm!, r);
  const matched = objects.map((o) => byAnchor.get(o.anchor) ?? (o.dn ? byDn.get(normalizeDN(o.dn)) : undefined));
  const pes = new Map((await pendingExportsFor(tx, matched.flatMap((m) => (m ? [m.id] : [])))).map((p) => [p.cs_id, p]));

  const inserts: Array<Record<string, unknown>> = [];
  const updates: Array<Record<string, unknown>> = [];
  const confirmed: number[] = [];
  const refuted: number[] = [];
  const retryDeletes: number[] = [];
  objects.forEach((o, i) => {
    const attrs = compactAttributes(o.attrs);
    const row = matched[i];
    if (row && seen.has(row.id)) {
      // Staged by an earlier batch of this run already (withoutAmbiguous sees one batch only).
      run.error({ anchor: o.anchor, dn: o.dn, code: "duplicate-anchor", message: `anchor '${o.anchor}' was imported twice; the later object is ignored` });
      return;
    }
    if (!row) {
      inserts.push({ ma, object_type: o.objectType, anchor: o.anchor, dn: o.dn ?? null, dn_norm: o.dn ? normalizeDN(o.dn) : null, attrs });
      run.counts.adds++;
      return;
    }
    seen.add(row.id);
    let needsSync = false;
    let confirmedNow = false;
    const pe = pes.get(row.id);
    if (pe?.state === "unconfirmed") {
      if (pe.op === "delete") {
        retryDeletes.push(row.id);
        run.error({ csId: String(row.id), anchor: o.anchor, dn: o.dn, code: "exported-change-not-reimported", message: "an exported delete did not take effect: the object is still there" });
      } else {
        const missing = Object.keys(pe.changes).filter((a) => !equal(o.objectType, a)(pe.changes[a], attrs[a]));
        const dnOk = !pe.new_dn || !o.dn || normalizeDN(pe.new_dn) === normalizeDN(o.dn);
        if (missing.length === 0 && dnOk) {
          confirmed.push(row.id);
          confirmedNow = true;
          run.counts.confirmed++;
        } else {
          // Data drift: the target did not keep what we exported. Recompute on the next sync.
          refuted.push(row.id);
          needsSync = true;
          run.error({
            csId: String(row.id),
            anchor: o.anchor,
            dn: o.dn,
            code: "exported-change-not-reimported",
            message: `exported ${missing.length > 0 ? `attribute(s) ${missing.join(", ")}` : "DN"} not found as exported`,
          });
        }
      }
    }
    const changed = row.deleted || row.anchor !== o.anchor || (o.dn ?? null) !== row.dn || !attributesEqual(row.attrs, attrs);
    if (changed || needsSync || row.imported_at === null) {
      const firstSight = row.imported_at === null || row.deleted;
      const onlyConfirms = confirmedNow && confirmedExactly(row, pe, attrs, (a) => equal(o.objectType, a), matters, o.dn);
      if (changed && !onlyConfirms) {
        if (firstSight) run.counts.adds++;
        else run.counts.updates++;
      } else run.counts.unchanged++;
      updates.push({
        id: row.id,
        anchor: o.anchor,
        dn: o.dn ?? null,
        dn_norm: o.dn ? normalizeDN(o.dn) : null,
        attrs,
        // An import that only confirms what we exported needs no sync: nothing new to flow.
        pending:
          needsSync || (changed && !confirmedExactly(row, pe, attrs, (a) => equal(o.objectType, a), matters, o.dn))
            ? row.pending_import === "add" || (firstSight && row.mv_id === null) ? "add" : "update"
            : row.pending_import,
      });
    } else {
      run.counts.unchanged++;
    }
  });
  if (inserts.length > 0) {
    const ids = await tx.query<{ id: number }>(
      `insert into cs_object (ma, object_type, anchor, dn, dn_norm, attrs, pending_import, imported_at)
       select ma, object_type, anchor, dn, dn_norm, attrs, 'add', $2::timestamptz
         from jsonb_to_recordset($1::jsonb) as v(ma text, object_type text, anchor text, dn text, dn_norm text, attrs jsonb)
       returning id`,
      [JSON.stringify(inserts), now],
    );
    for (const r of ids.rows) seen.add(r.id);
  }
  await updateRows(
    tx,
    "cs_object",
    { id: "bigint", anchor: "text", dn: "text", dn_norm: "text", attrs: "jsonb", pending: "text" },
    updates,
    `anchor = v.anchor, dn = v.dn, dn_norm = v.dn_norm, attrs = v.attrs, pending_import = v.pending,
     deleted = false, imported_at = '${now}'::timestamptz`,
  );
  const settled = [...confirmed, ...refuted];
  if (settled.length > 0) await tx.query(`delete from pending_export where cs_id = any($1::bigint[])`, [settled]);
  if (retryDeletes.length > 0) {
    await tx.query(`update pending_export set state = 'pending', updated_at = now() where cs_id = any($1::bigint[])`, [retryDeletes]);
  }
}

/** Full import: what was imported before and was not seen now is gone from the connected system. */
async function sweep(ctx: EngineContext, ma: string, seen: Set<number>, unreadable: Set<string>, run: RunRecorder, profile: string): Promise<boolean> {
  const rows = (
    await ctx.db.query<{ id: number; imported_at: string | null; op: string | null; state: string | null; anchor: string | null }>(
      `select c.id, c.imported_at, p.op, p.state, c.anchor from cs_object c left join pending_export p on p.cs_id = c.id
        where c.ma = $1 and not c.deleted and (c.imported_at is not null or p.state = 'unconfirmed')`,
      [ma],
    )
  ).rows.filter((r) => !seen.has(r.id) && !(r.anchor !== null && unreadable.has(r.anchor)));
  const gone: number[] = [];
  const confirmedDeletes: number[] = [];
  const lostAdds: number[] = [];
  for (const r of rows) {
    if (r.op === "delete" && r.state === "unconfirmed") {
      confirmedDeletes.push(r.id);
      run.counts.confirmed++;
    } else if (r.imported_at === null) {
      lostAdds.push(r.id);
      run.error({ csId: String(r.id), anchor: r.anchor ?? undefined, code: "exported-change-not-reimported", message: "an exported add is not in the connected system" });
    } else {
      gone.push(r.id);
    }
  }
  // Our own deletes and lost adds are settled either way; the source's deletes only within the guard.
  const allowed = await deletesAllowed(ctx, ma, gone.length, run, profile);
  if (!allowed) gone.length = 0;
  run.counts.deletes += gone.length;
  await ctx.db.transaction(async (tx) => {
    if (gone.length > 0) {
      await tx.query(`update cs_object set deleted = true, pending_import = 'delete' where id = any($1::bigint[])`, [gone]);
    }
    await settleConfirmedDeletes(tx, confirmedDeletes);
    if (lostAdds.length > 0) {
      await tx.query(`update pending_export set state = 'pending', updated_at = now() where cs_id = any($1::bigint[])`, [lostAdds]);
    }
  });
  await run.flushErrors();
  return allowed;
}

/** A delta's explicit deletes, after its last batch, within the deletion guard; false when held. */
async function applyDeletes(ctx: EngineContext, ma: string, deletes: Array<{ anchor?: string; dn?: string }>, run: RunRecorder, profile: string): Promise<boolean> {
  if (deletes.length === 0) return true;
  return ctx.db.transaction(async (tx) => {
    const rows = [
      ...(await csByAnchors(tx, ma, deletes.flatMap((d) => (d.anchor ? [d.anchor] : [])))),
      ...(await csByDnNorm(tx, ma, deletes.flatMap((d) => (d.dn && !d.anchor ? [normalizeDN(d.dn)] : [])))),
    ].filter((r) => !r.deleted);
    const ids = [...new Set(rows.map((r) => r.id))];
    // A delete we exported ourselves is confirmed by the directory reporting it: not the source's
    // doing, so it goes whatever the guard says, and does not count against it.
    const ours = (
      await tx.query<{ cs_id: number }>(`delete from pending_export where cs_id = any($1::bigint[]) and op = 'delete' and state = 'unconfirmed' returning cs_id`, [ids])
    ).rows.map((r) => r.cs_id);
    const oursSet = new Set(ours);
    const theirs = ids.filter((id) => !oursSet.has(id));
    const allowed = await deletesAllowed(ctx, ma, theirs.length, run, profile, tx);
    const gone = allowed ? ids : ours;
    run.counts.deletes += gone.length;
    await updateRows(tx, "cs_object", { id: "bigint" }, gone.map((id) => ({ id })), `deleted = true, pending_import = 'delete'`);
    return allowed;
  });
}

/** The import shows exactly the exported values on an object that had nothing else imported. */
// Skipping the sync when only attributes no rule reads changed (an LDAP entryUUID first seen) would
// save a sync after every provisioning, but it also skipped the rename of an adopted entry in the
// e2e tests; off until that interaction is understood (see the closing note, issue 3, item C).
const DEFER_UNREAD_ATTRIBUTES = false;

function confirmedExactly(
  row: CsRow,
  pe: { state: string; op: string; changes: Record<string, unknown> } | undefined,
  attrs: Record<string, unknown>,
  equal: (attr: string) => (a: unknown, b: unknown) => boolean,
  matters: Set<string>,
  dn?: string,
): boolean {
  if (!pe || pe.state !== "unconfirmed" || pe.op === "delete" || row.mv_id === null) return false;
  // A DN other than the one we exported (or had) is a change the rules must see.
  const expectedDn = (pe as { new_dn?: string | null }).new_dn ?? row.dn;
  if (dn !== undefined && expectedDn !== null && normalizeDN(dn) !== normalizeDN(expectedDn)) return false;
  const expected = { ...row.attrs, ...pe.changes };
  // Attributes no rule reads or writes (say an LDAP entryUUID first seen now) need no sync.
  const names = new Set([...Object.keys(expected), ...Object.keys(attrs)].filter((n) => matters.has(n) || n in pe.changes || !DEFER_UNREAD_ATTRIBUTES));
  return [...names].every((n) => equal(n)(expected[n], attrs[n]));
}

/** Attributes of an MA that some rule reads (filter, inbound) or writes (outbound). */
export function attributesThatMatter(ma: CompiledMA): Set<string> {
  const out = new Set<string>(ma.filter?.reads ?? []);
  for (const r of ma.inbound) {
    for (const e of [r.scope, ...r.join.map((j) => j.expr), ...r.flows.map((f) => f.expr)]) for (const a of e?.reads ?? []) out.add(a);
  }
  for (const r of ma.outbound) for (const f of [...r.flows, ...r.deprovisionFlows]) out.add(f.target);
  return out;
}

/**
 * How an exported value is compared with the imported one: reference attributes of a system that
 * references by DN (LDAP) compare as DNs — the connector reads them back normalized, while the
 * export wrote them as the DN rule spelled them; everything else with valuesEqual.
 */
function attributeComparer(ctx: EngineContext, ma: string, referenceBy: "anchor" | "dn"): (objectType: string, attr: string) => (a: unknown, b: unknown) => boolean {
  if (referenceBy !== "dn") return () => valuesEqual;
  const types = ctx.config.mas.get(ma)?.types;
  return (objectType, attr) => (types?.get(objectType)?.attributes.get(attr)?.type === "reference" ? dnValuesEqual : valuesEqual);
}
