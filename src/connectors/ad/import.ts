// Full and delta import from Active Directory.
//
// Full import: per object type and container, one paged subtree search, one ImportBatch per page.
// A normal search never returns deleted objects (tombstones), so they never count as live. Large
// multi-valued attributes that come back ranged (member;range=0-1499) are completed first.
//
// Delta import, in the mode the watermark names:
// - "dirsync:<cookie>": the DirSync control on the naming context. It reports each object one of
//   the requested attributes of changed since the cookie, and deleted objects as tombstones
//   (isDeleted=TRUE). It answers with only the changed attributes, so each changed object is read
//   again whole by its objectGUID (the engine stages whole objects); an object that moved out of
//   the containers, or no longer matches its type, is reported deleted. Needs "Replicating
//   Directory Changes" on the domain.
// - "usn:<n>": objects with uSNChanged > n under the naming context, and tombstones with
//   uSNChanged > n in the Deleted Objects container (Show Deleted control). Needs only read access
//   (and List Contents on Deleted Objects, which Authenticated Users lack by default: then deletes
//   are found by the next full import).
// The next watermark is taken before reading, so a change made during the read is read again next
// time rather than missed. No watermark yet: every object, as a snapshot.
import { AndFilter, OrFilter, type Client, type Entry, type Filter } from "ldapts";
import type { DeltaImport, ImportBatch, ImportChange, ImportedObject, ImportProblem } from "../types.ts";
import { anchorOf } from "../types.ts";
import { isConnectionError, isResultError, type LdapConnection } from "../ldap/connection.ts";
import { isWithin, normalizeDN } from "../ldap/dn.ts";
import { parseFilter } from "../ldap/filter.ts";
import { importFailure } from "../ldap/import.ts";
import type { DirectorySchema } from "../ldap/schema.ts";
import { attributeMap, entryValues, readEntry, type AttributeMap } from "../ldap/values.ts";
import { DirSyncControl, showDeletedControl } from "./controls.ts";
import { completeRanges } from "../ldap/ranged.ts";
import type { AdSettings, AdTypePlan } from "./settings.ts";
import { OBJECT_GUID, isEnabled } from "./values.ts";

export interface AdImportContext {
  conn: LdapConnection;
  settings: AdSettings;
  types: AdTypePlan[];
}

// Result codes that mean "this bind account may not use DirSync" (or the server has none).
const DIRSYNC_REFUSED = new Set([12, 50, 53]);
// How many objects a DirSync delta reads back at once, pipelined on the one connection.
const REREAD_CONCURRENCY = 16;

interface Reader {
  settings: AdSettings;
  client: Client;
  schema: DirectorySchema;
  maps: Map<AdTypePlan, AttributeMap>;
}

async function reader(ctx: AdImportContext, what: string): Promise<Reader> {
  try {
    const client = await ctx.conn.get();
    const schema = await ctx.conn.schema();
    return { settings: ctx.settings, client, schema, maps: new Map(ctx.types.map((t) => [t, attributeMap(t, schema)])) };
  } catch (err) {
    throw importFailure(ctx.settings.ldap, what, err);
  }
}

/** An entry of a known type as an ImportedObject, or the problem that keeps it out. */
async function toObject(r: Reader, plan: AdTypePlan, entry: Entry, problems: ImportProblem[]): Promise<ImportedObject | undefined> {
  try {
    await completeRanges(r.client, entry);
  } catch (err) {
    throw importFailure(r.settings.ldap, `reading the ranged values of ${entry.dn}`, err);
  }
  const map = r.maps.get(plan)!;
  const read = readEntry(entry, map);
  const anchor = plan.serverAnchor ? read.serverAnchor : anchorOf({ ...plan.spec, attributes: plan.attributes }, read.attrs);
  for (const message of read.problems) problems.push({ location: entry.dn, anchor, code: "attributeValue", message });
  if (read.rejected !== undefined) {
    problems.push({ location: entry.dn, anchor, code: "invalid-value", message: read.rejected });
    return undefined;
  }
  if (!anchor) {
    problems.push({ location: entry.dn, code: "missingAnchor", message: `entry has no ${plan.serverAnchor?.attribute ?? plan.spec.anchor.join("+")}; skipped` });
    return undefined;
  }
  if (plan.accountEnabled) {
    const uac = read.attrs.userAccountControl;
    if (typeof uac === "number") read.attrs[plan.accountEnabled.name] = isEnabled(uac);
    if (!plan.declaresUserAccountControl) delete read.attrs.userAccountControl;
  }
  return { objectType: plan.name, anchor, dn: entry.dn, attrs: read.attrs };
}

/** Containers with none inside another (a nested one would read its objects twice). */
function outermost(containers: string[]): string[] {
  return containers.filter((c, i) => !containers.some((o, j) => j !== i && isWithin(c, o) && !(isWithin(o, c) && j > i)));
}

/** One object type's entries under `base` matching `filter`, a page at a time. */
async function* pagesOf(r: Reader, plan: AdTypePlan, base: string, filter: Filter, what: string): AsyncGenerator<Entry[]> {
  const map = r.maps.get(plan)!;
  const pages = r.client.searchPaginated(base, {
    scope: "sub",
    filter,
    attributes: map.requested,
    explicitBufferAttributes: map.buffers,
    paged: { pageSize: r.settings.ldap.pageSize },
  });
  // One page ahead: the DC reads the next page while the engine stores this one.
  let next = pages.next();
  for (;;) {
    let page: IteratorResult<{ searchEntries: Entry[] }>;
    try {
      page = await next;
    } catch (err) {
      throw importFailure(r.settings.ldap, what, err);
    }
    if (page.done) return;
    next = pages.next();
    next.catch(() => undefined); // awaited above on the next turn; never an unhandled rejection
    yield page.value.searchEntries;
  }
}

export async function* fullImport(ctx: AdImportContext): AsyncGenerator<ImportBatch<ImportedObject>> {
  const r = await reader(ctx, "import");
  for (const plan of ctx.types) {
    for (const container of outermost(ctx.settings.containers)) {
      for await (const entries of pagesOf(r, plan, container, parseFilter(plan.filter), `search for ${plan.name} under ${container}`)) {
        const items: ImportedObject[] = [];
        const problems: ImportProblem[] = [];
        for (const entry of entries) {
          const o = await toObject(r, plan, entry, problems);
          if (o) items.push(o);
        }
        yield problems.length > 0 ? { items, problems } : { items };
      }
    }
  }
}

// ---------------------------------------------------------------- watermarks

type Mark = { mode: "dirsync"; cookie: Buffer } | { mode: "usn"; usn: bigint };

export function formatMark(m: Mark): string {
  return m.mode === "dirsync" ? `dirsync:${m.cookie.toString("base64")}` : `usn:${m.usn}`;
}

export function parseMark(s: string | undefined): Mark | undefined {
  if (!s) return undefined;
  if (s.startsWith("dirsync:")) return { mode: "dirsync", cookie: Buffer.from(s.slice(8), "base64") };
  if (/^usn:\d+$/.test(s)) return { mode: "usn", usn: BigInt(s.slice(4)) };
  return undefined; // another connector's or an older form: start over with a snapshot
}

function typesFilter(ctx: AdImportContext): Filter {
  const filters = ctx.types.map((t) => parseFilter(t.filter));
  return filters.length === 1 ? filters[0] : new OrFilter({ filters });
}

/** Every attribute any type reads, for DirSync (it reports changes of requested attributes only). */
function allRequested(r: Reader): string[] {
  // name: a rename or a move (AD replicates both as a change of the RDN attribute `name`).
  const out = new Set<string>(["objectGUID", "objectClass", "isDeleted", "name"]);
  for (const m of r.maps.values()) for (const a of m.requested) out.add(a);
  return [...out];
}

function allBuffers(r: Reader): string[] {
  const out = new Set<string>(["objectGUID"]);
  for (const m of r.maps.values()) for (const a of m.buffers) out.add(a);
  return [...out];
}

/** One DirSync round trip set: every page until the server says no more data. */
async function dirSync(ctx: AdImportContext, r: Reader, cookie: Buffer, filter: Filter, attributes: string[]): Promise<{ entries: Entry[]; cookie: Buffer }> {
  const control = new DirSyncControl(cookie);
  const entries: Entry[] = [];
  for (let round = 0; ; round++) {
    const res = await r.client.search(ctx.settings.ldap.baseDN, { scope: "sub", filter, attributes, explicitBufferAttributes: allBuffers(r) }, control);
    for (const e of res.searchEntries) entries.push(e);
    if (!control.moreData || round > 100_000) return { entries, cookie: control.cookie };
  }
}

/** The current position: a DirSync cookie (reading nothing) or the highest committed USN. */
async function currentMark(ctx: AdImportContext, r: Reader): Promise<Mark> {
  if (ctx.settings.deltaMode !== "usn") {
    try {
      // A filter no object matches: the answer is only the cookie for "now".
      const none = new AndFilter({ filters: [parseFilter("(objectClass=top)"), parseFilter("(!(objectClass=top))")] });
      const { cookie } = await dirSync(ctx, r, Buffer.alloc(0), none, ["objectGUID"]);
      return { mode: "dirsync", cookie };
    } catch (err) {
      if (isConnectionError(err) || ctx.settings.deltaMode === "dirsync" || !(isResultError(err) && DIRSYNC_REFUSED.has(err.code))) {
        throw importFailure(ctx.settings.ldap, "starting DirSync (the bind account needs Replicating Directory Changes, or set deltaMode: usn)", err);
      }
    }
  }
  try {
    const root = await r.client.search("", { scope: "base", filter: "(objectClass=*)", attributes: ["highestCommittedUSN"] });
    const v = root.searchEntries[0] ? entryValues(root.searchEntries[0], "highestCommittedUSN", r.schema)[0] : undefined;
    if (v === undefined) throw new Error("the rootDSE has no highestCommittedUSN");
    return { mode: "usn", usn: BigInt(String(v)) };
  } catch (err) {
    throw importFailure(ctx.settings.ldap, "reading highestCommittedUSN", err);
  }
}

export async function deltaImport(ctx: AdImportContext, watermark: string | undefined): Promise<DeltaImport> {
  const r = await reader(ctx, "delta import");
  const since = parseMark(watermark);
  const wanted = ctx.settings.deltaMode;
  const usable = since !== undefined && (wanted === "auto" || wanted === since.mode) ? since : undefined;
  if (usable?.mode === "dirsync") {
    // The answer carries the next cookie, which covers what this search read: a change made later
    // (while we read objects back) comes with the next delta.
    let found: { entries: Entry[]; cookie: Buffer } | undefined;
    try {
      found = await dirSync(ctx, r, usable.cookie, typesFilter(ctx), allRequested(r));
    } catch (err) {
      // The right was taken away: in auto mode, start over from a snapshot in usn mode.
      if (isConnectionError(err) || wanted === "dirsync" || !(isResultError(err) && DIRSYNC_REFUSED.has(err.code))) {
        throw importFailure(ctx.settings.ldap, "DirSync delta", err);
      }
    }
    if (found) {
      const cookie = found.cookie;
      return { mode: "changes", batches: dirSyncChanges(ctx, r, found.entries), watermark: async () => formatMark({ mode: "dirsync", cookie }) };
    }
  }
  // Taken before reading: a change made while we read is read again next time, never missed.
  const next = await currentMark(ctx, r);
  const watermarkFn = async () => formatMark(next);
  if (usable?.mode === "usn") return { mode: "changes", batches: usnChanges(ctx, r, usable.usn), watermark: watermarkFn };
  async function* all(): AsyncGenerator<ImportBatch<ImportChange>> {
    for await (const b of fullImport(ctx)) yield { items: b.items.map((object) => ({ kind: "upsert", object })), problems: b.problems };
  }
  return { mode: "snapshot", batches: all(), watermark: watermarkFn };
}

// ---------------------------------------------------------------- classification

function classesOf(entry: Entry, r: Reader): Set<string> {
  return new Set(entryValues(entry, "objectClass", r.schema).map((v) => String(v).toLowerCase()));
}

/** The declared type an entry belongs to by its object classes (the most specific match). */
function typeOf(ctx: AdImportContext, classes: Set<string>): AdTypePlan | undefined {
  let best: AdTypePlan | undefined;
  for (const t of ctx.types) {
    if (!t.objectClasses.every((c) => classes.has(c.toLowerCase()))) continue;
    if (t.isUser && classes.has("computer")) continue;
    if (!best || t.objectClasses.length > best.objectClasses.length) best = t;
  }
  return best;
}

function inContainers(ctx: AdImportContext, dn: string): boolean {
  try {
    return ctx.settings.containers.some((c) => isWithin(dn, c));
  } catch {
    return false;
  }
}

function guidOf(entry: Entry, r: Reader): string | undefined {
  const v = entryValues(entry, "objectGUID", r.schema)[0];
  return v === undefined ? undefined : OBJECT_GUID.read(v);
}

function isTombstone(entry: Entry, r: Reader): boolean {
  return entryValues(entry, "isDeleted", r.schema).some((v) => String(v).toUpperCase() === "TRUE");
}

/**
 * Reads objects again whole by objectGUID and reports each as an upsert of its type, or as a
 * delete when it is gone, outside the containers, or no longer of any declared type.
 */
async function reread(ctx: AdImportContext, r: Reader, guids: Array<{ guid: string; type?: AdTypePlan }>): Promise<ImportBatch<ImportChange>> {
  const items: ImportChange[] = [];
  const problems: ImportProblem[] = [];
  const attributes = allRequested(r);
  const buffers = allBuffers(r);
  const one = async (g: { guid: string; type?: AdTypePlan }) => {
    let entry: Entry | undefined;
    try {
      // The types' filters, judged by the server: an object that no longer passes one is out of scope.
      const res = await r.client.search(`<GUID=${g.guid}>`, { scope: "base", filter: typesFilter(ctx), attributes, explicitBufferAttributes: buffers });
      entry = res.searchEntries[0];
    } catch (err) {
      if (isConnectionError(err) || !(isResultError(err) && err.code === 32)) throw err;
    }
    const plan = entry ? typeOf(ctx, classesOf(entry, r)) : undefined;
    if (!entry || !plan || !inContainers(ctx, entry.dn)) {
      const type = plan ?? g.type ?? ctx.types[0];
      items.push({ kind: "delete", objectType: type.name, anchor: g.guid });
      return;
    }
    const o = await toObject(r, plan, entry, problems);
    if (o) items.push({ kind: "upsert", object: o });
  };
  for (let i = 0; i < guids.length; i += REREAD_CONCURRENCY) await Promise.all(guids.slice(i, i + REREAD_CONCURRENCY).map(one));
  return problems.length > 0 ? { items, problems } : { items };
}

const REREAD_BATCH = 500;

async function* dirSyncChanges(ctx: AdImportContext, r: Reader, entries: Entry[]): AsyncGenerator<ImportBatch<ImportChange>> {
  const deletes: ImportChange[] = [];
  const changed: Array<{ guid: string; type?: AdTypePlan }> = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const guid = guidOf(e, r);
    if (!guid || seen.has(guid)) continue;
    seen.add(guid);
    const type = typeOf(ctx, classesOf(e, r));
    // A tombstone, or a live object outside the containers (moved out, or never ours: a delete of
    // an anchor the connector space does not hold changes nothing), needs no reading back.
    if (isTombstone(e, r) || !inContainers(ctx, e.dn)) deletes.push({ kind: "delete", objectType: (type ?? ctx.types[0]).name, anchor: guid });
    else changed.push({ guid, type });
  }
  // Deletes first: an object deleted and another created with its DN must end up present.
  if (deletes.length > 0) yield { items: deletes };
  for (let i = 0; i < changed.length; i += REREAD_BATCH) {
    try {
      yield await reread(ctx, r, changed.slice(i, i + REREAD_BATCH));
    } catch (err) {
      throw importFailure(ctx.settings.ldap, "reading changed objects", err);
    }
  }
}

async function* usnChanges(ctx: AdImportContext, r: Reader, since: bigint): AsyncGenerator<ImportBatch<ImportChange>> {
  const after = `(uSNChanged>=${since + 1n})`;
  // Tombstones first. Without List Contents on Deleted Objects the search finds nothing (no
  // error): deletions then wait for the next full import, as the README says.
  try {
    const res = await r.client.search(`CN=Deleted Objects,${ctx.settings.ldap.baseDN}`, {
      scope: "one",
      filter: parseFilter(`(&(isDeleted=TRUE)${after})`),
      attributes: ["objectGUID", "objectClass", "lastKnownParent"],
      explicitBufferAttributes: ["objectGUID"],
      paged: { pageSize: ctx.settings.ldap.pageSize },
    }, showDeletedControl());
    const items: ImportChange[] = [];
    for (const e of res.searchEntries) {
      const guid = guidOf(e, r);
      const type = typeOf(ctx, classesOf(e, r));
      if (guid && type) items.push({ kind: "delete", objectType: type.name, anchor: guid });
    }
    if (items.length > 0) yield { items };
  } catch (err) {
    if (isConnectionError(err)) throw importFailure(ctx.settings.ldap, "reading deleted objects", err);
    if (!(isResultError(err) && (err.code === 32 || err.code === 50))) throw importFailure(ctx.settings.ldap, "reading deleted objects", err);
  }
  // Changed objects of every type, under the whole naming context: one moved out of the
  // containers is reported deleted, one moved in is reported present.
  for (const plan of ctx.types) {
    const filter = new AndFilter({ filters: [parseFilter(plan.filter), parseFilter(after)] });
    for await (const entries of pagesOf(r, plan, ctx.settings.ldap.baseDN, filter, `uSNChanged search for ${plan.name}`)) {
      const items: ImportChange[] = [];
      const problems: ImportProblem[] = [];
      for (const entry of entries) {
        if (!inContainers(ctx, entry.dn)) {
          const guid = guidOf(entry, r);
          if (guid) items.push({ kind: "delete", objectType: plan.name, anchor: guid, dn: normalizeDN(entry.dn) });
          continue;
        }
        const o = await toObject(r, plan, entry, problems);
        if (o) items.push({ kind: "upsert", object: o });
      }
      yield problems.length > 0 ? { items, problems } : { items };
    }
  }
}
