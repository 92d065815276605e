// Full and delta import.
//
// Full import: one paged search (RFC 2696) per object type under baseDN, one ImportBatch per page,
// so memory holds one page, not the directory. Paged results are not cut by the server's plain
// size limit (OpenLDAP: size.prtotal).
//
// Delta import, from a watermark that is a GeneralizedTime:
// - OpenLDAP (entries carry entryCSN): the watermark is the time part of a CSN, microseconds
//   included; changed entries are (entryCSN>=<watermark>#000000#000#000000). The next watermark is
//   the suffix's contextCSN read BEFORE searching (when syncprov keeps one), so a change committed
//   during the search is read again next time rather than missed; without contextCSN, the highest
//   entryCSN seen.
// - other servers: (modifyTimestamp>=<watermark>), seconds precision, the highest one seen.
// Re-reading an entry changed in the watermark's own second/microsecond is harmless (an upsert).
//
// Deletions: when settings.accesslogBase names OpenLDAP's accesslog database, successful deletes
// logged since the watermark's second are read from it (reqDN, reqEntryUUID = the anchor, and the
// object type from the logged old objectClass values). Without an accesslog, a delta import cannot
// see deletions: they are detected by the next full import. The same holds, even with the
// accesslog, for an entry that leaves an object type's filter or is moved out of baseDN.
//
// deltaImport(undefined) (no watermark yet) returns every object as a "snapshot".
import type { Client, Entry } from "ldapts";
import { ConnectorUnavailableError } from "../errors.ts";
import type { DeltaImport, ImportBatch, ImportChange, ImportedObject, ImportProblem } from "../types.ts";
import { anchorOf } from "../types.ts";
import { describe, diagnostic, isConnectionError, isResultError, resultName, serverName, type LdapConnection } from "./connection.ts";
import { isWithin, normalizeDN } from "./dn.ts";
import { andFilter, equalityFilter, greaterOrEqualFilter, parseFilter } from "./filter.ts";
import type { DirectorySchema } from "./schema.ts";
import type { LdapSettings, LdapTypePlan } from "./settings.ts";
import { attributeMap, entryValues, readEntry } from "./values.ts";

export interface ImportContext {
  conn: LdapConnection;
  settings: LdapSettings;
  types: LdapTypePlan[];
}

/** Tracks the newest change time seen, in the watermark's form. */
class Marks {
  maxCSN?: string;
  maxTimestamp?: string;
  see(csn: string | undefined, modifyTimestamp: string | undefined): void {
    const t = csn ? csnTime(csn) : undefined;
    if (t && (!this.maxCSN || t > this.maxCSN)) this.maxCSN = t;
    if (modifyTimestamp && (!this.maxTimestamp || modifyTimestamp > this.maxTimestamp)) this.maxTimestamp = modifyTimestamp;
  }
  best(): string | undefined {
    return this.maxCSN ?? this.maxTimestamp;
  }
}

/** "20240131120000.123456Z#000000#000#000000" → "20240131120000.123456Z" */
function csnTime(csn: string): string {
  return csn.split("#")[0];
}

/** The seconds of a watermark, for GeneralizedTime filters: "20240131120000.123456Z" → "20240131120000Z". */
function secondsOf(mark: string): string {
  return mark.replace(/[.,]\d+/, "");
}

function fail(ctx: ImportContext, what: string, err: unknown): Error {
  return importFailure(ctx.settings, what, err);
}

/** An import's failure: ConnectorUnavailableError when the server is out of reach, else the server's answer. */
export function importFailure(settings: LdapSettings, what: string, err: unknown): Error {
  const where = `${serverName(settings)}: ${what}`;
  if (err instanceof ConnectorUnavailableError) return err;
  if (isConnectionError(err)) return new ConnectorUnavailableError(`${where}: ${describe(err)}`, { cause: err });
  if (isResultError(err)) return new Error(`${where}: ${resultName(err)} ${diagnostic(err)}`.trim(), { cause: err });
  return new Error(`${where}: ${describe(err)}`, { cause: err });
}

/** Pages of one object type's entries matching `extraFilter` (if any), as ImportedObjects. */
async function* searchType(
  ctx: ImportContext,
  plan: LdapTypePlan,
  extraFilter: string,
  marks: Marks,
): AsyncGenerator<ImportBatch<ImportedObject>> {
  let client: Client;
  let schema: DirectorySchema;
  try {
    client = await ctx.conn.get();
    schema = await ctx.conn.schema();
  } catch (err) {
    throw fail(ctx, `import of ${plan.name}`, err);
  }
  const map = attributeMap(plan, schema);
  const pages = client.searchPaginated(ctx.settings.baseDN, {
    scope: "sub",
    filter: parseFilter(andFilter(plan.filter, extraFilter)),
    attributes: map.requested,
    explicitBufferAttributes: map.buffers,
    paged: { pageSize: ctx.settings.pageSize },
  });
  for (;;) {
    let page: IteratorResult<{ searchEntries: Entry[] }>;
    try {
      page = await pages.next();
    } catch (err) {
      throw fail(ctx, `search for ${plan.name} under ${ctx.settings.baseDN}`, err);
    }
    if (page.done) return;
    const items: ImportedObject[] = [];
    const problems: ImportProblem[] = [];
    for (const entry of page.value.searchEntries) {
      const r = readEntry(entry, map);
      marks.see(r.entryCSN, r.modifyTimestamp);
      const anchor = plan.serverAnchor ? r.serverAnchor : anchorOf({ ...plan.spec, attributes: plan.attributes }, r.attrs);
      for (const message of r.problems) problems.push({ location: entry.dn, anchor, code: "attributeValue", message });
      if (r.rejected !== undefined) {
        // With its anchor: the engine then keeps the object as it was instead of deleting it.
        problems.push({ location: entry.dn, anchor, code: "invalid-value", message: r.rejected });
        continue;
      }
      if (!anchor) {
        const which = plan.serverAnchor ? plan.serverAnchor.attribute : plan.spec.anchor.join("+");
        problems.push({ location: entry.dn, code: "missingAnchor", message: `entry has no ${which}; skipped` });
        continue;
      }
      items.push({ objectType: plan.name, anchor, dn: entry.dn, attrs: r.attrs });
    }
    yield problems.length > 0 ? { items, problems } : { items };
  }
}

export async function* fullImport(ctx: ImportContext, marks = new Marks()): AsyncGenerator<ImportBatch<ImportedObject>> {
  for (const plan of ctx.types) yield* searchType(ctx, plan, "", marks);
}

/** The contextCSN of the naming context holding baseDN (time part, newest value), if the server keeps one. */
async function contextMark(ctx: ImportContext): Promise<string | undefined> {
  try {
    const client = await ctx.conn.get();
    const schema = await ctx.conn.schema();
    const root = await client.search("", { scope: "base", filter: "(objectClass=*)", attributes: ["namingContexts"] });
    const contexts = root.searchEntries[0] ? entryValues(root.searchEntries[0], "namingContexts", schema).map(String) : [];
    const mine = contexts.filter((nc) => nc !== "" && isWithin(ctx.settings.baseDN, nc)).sort((a, b) => b.length - a.length)[0];
    if (!mine) return undefined;
    const res = await client.search(mine, { scope: "base", filter: "(objectClass=*)", attributes: ["contextCSN"] });
    const csns = res.searchEntries[0] ? entryValues(res.searchEntries[0], "contextCSN", schema).map((v) => csnTime(String(v))) : [];
    return csns.sort().at(-1);
  } catch (err) {
    if (isConnectionError(err)) throw fail(ctx, "reading contextCSN", err);
    return undefined; // no access or no such attribute: fall back to the highest entryCSN seen
  }
}

/** Deletions logged in the accesslog since `since` (a watermark), oldest first, one batch per page. */
async function* accesslogDeletes(ctx: ImportContext, since: string, marks: Marks): AsyncGenerator<ImportBatch<ImportChange>> {
  const base = ctx.settings.accesslogBase!;
  let client: Client;
  let schema: DirectorySchema;
  try {
    client = await ctx.conn.get();
    schema = await ctx.conn.schema();
  } catch (err) {
    throw fail(ctx, "reading the accesslog", err);
  }
  const filter = andFilter(equalityFilter("objectClass", "auditDelete"), equalityFilter("reqResult", "0"), greaterOrEqualFilter("reqStart", secondsOf(since)));
  const pages = client.searchPaginated(base, {
    scope: "one",
    filter: parseFilter(filter),
    attributes: ["reqDN", "reqStart", "reqEntryUUID", "reqOld"],
    paged: { pageSize: ctx.settings.pageSize },
  });
  for (;;) {
    let page: IteratorResult<{ searchEntries: Entry[] }>;
    try {
      page = await pages.next();
    } catch (err) {
      throw fail(ctx, `reading deletions from the accesslog ${base}`, err);
    }
    if (page.done) return;
    const items: ImportChange[] = [];
    const problems: ImportProblem[] = [];
    const entries = [...page.value.searchEntries].sort((a, b) => String(a.dn).localeCompare(String(b.dn)));
    for (const e of entries) {
      const text = (name: string) => entryValues(e, name, schema).map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : v));
      const dn = text("reqDN")[0];
      const start = text("reqStart")[0];
      if (start) marks.see(`${secondsOf(start).replace(/Z$/, ".000000Z")}`, undefined);
      if (!dn) continue;
      try {
        if (!isWithin(dn, ctx.settings.baseDN)) continue;
      } catch {
        continue;
      }
      const old = text("reqOld");
      const entryUUID = text("reqEntryUUID")[0] ?? old.find((l) => /^entryUUID:/i.test(l))?.replace(/^entryUUID:\s*/i, "");
      const classes = new Set(old.filter((l) => /^objectClass:/i.test(l)).map((l) => l.replace(/^objectClass:\s*/i, "").trim().toLowerCase()));
      let plan: LdapTypePlan | undefined;
      if (classes.size > 0) {
        plan = ctx.types.find((t) => t.objectClasses.length > 0 && t.objectClasses.every((oc) => classes.has(oc.toLowerCase())));
        if (!plan) continue; // an entry none of our object types covers (an OU, say)
      } else {
        plan = ctx.types[0]; // objectClass not logged: the engine matches the delete by anchor / DN
      }
      const anchor = plan.serverAnchor ? entryUUID : undefined;
      if (!anchor && !dn) {
        problems.push({ location: e.dn, code: "deleteWithoutAnchor", message: "accesslog delete without DN or entryUUID" });
        continue;
      }
      items.push({ kind: "delete", objectType: plan.name, anchor, dn: normalizeDN(dn) });
    }
    if (items.length > 0 || problems.length > 0) yield problems.length > 0 ? { items, problems } : { items };
  }
}

export async function deltaImport(ctx: ImportContext, watermark: string | undefined): Promise<DeltaImport> {
  const marks = new Marks();
  // Read before searching: anything committed after this point is read again next time.
  const startMark = await contextMark(ctx);
  const next = async () => startMark ?? marks.best() ?? watermark;
  if (!watermark) {
    async function* all(): AsyncGenerator<ImportBatch<ImportChange>> {
      for await (const b of fullImport(ctx, marks)) {
        yield { items: b.items.map((object) => ({ kind: "upsert", object })), problems: b.problems };
      }
    }
    return { mode: "snapshot", batches: all(), watermark: next };
  }
  // A watermark with a fraction came from entryCSN; one without, from modifyTimestamp.
  const changed = /[.,]\d+Z$/.test(watermark)
    ? greaterOrEqualFilter("entryCSN", `${watermark}#000000#000#000000`)
    : greaterOrEqualFilter("modifyTimestamp", watermark);
  async function* changes(): AsyncGenerator<ImportBatch<ImportChange>> {
    // Deletes first: a DN deleted and re-created since the watermark must end up present.
    if (ctx.settings.accesslogBase) yield* accesslogDeletes(ctx, watermark!, marks);
    for (const plan of ctx.types) {
      for await (const b of searchType(ctx, plan, changed, marks)) {
        yield { items: b.items.map((object) => ({ kind: "upsert", object })), problems: b.problems };
      }
    }
  }
  return { mode: "changes", batches: changes(), watermark: next };
}
