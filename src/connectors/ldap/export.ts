// Export: add, modify (minimal value changes), rename/move (modDN), delete.
//
// Every operation gets an ExportResult; an LDAP result code (constraintViolation,
// objectClassViolation, entryAlreadyExists…) is that object's failure and the batch goes on. A lost
// connection ends the batch: ConnectorUnavailableError carries the results of the operations that
// did complete, the others stay pending with the engine.
//
// Each operation is written so that sending it again after an unknown outcome (the server died
// before answering) does no harm: an add that finds its own entry already there (same values)
// succeeds with that entry's anchor; a rename whose source is gone but whose target exists goes on;
// a value add/delete that finds the values already changed falls back to a replace; a delete of an
// entry that is already gone succeeds.
//
// Operations run pipelined on the one connection, up to MAX_IN_FLIGHT at a time, except those that
// depend on each other, which run in batch order (see schedule.ts).
import { Attribute, Change, type Client, type Entry } from "ldapts";
import { ConnectorUnavailableError } from "../errors.ts";
import type { AttrValue, ExportOperation, ExportResult, ValueChange } from "../types.ts";
import { anchorOf } from "../types.ts";
import { describe, diagnostic, isConnectionError, isResultError, isRetryable, resultName, type LdapConnection } from "./connection.ts";
import { dnEquals, modifyDNTarget } from "./dn.ts";
import { equalityFilter, parseFilter } from "./filter.ts";
import type { DirectorySchema } from "./schema.ts";
import { PostReadControl } from "./postread.ts";
import { footprint, InFlight } from "./schedule.ts";
import type { LdapSettings, LdapTypePlan } from "./settings.ts";
import { attributeMap, isNoUserModification, readEntry, toWire, valueKey, type AttributeMap } from "./values.ts";

// Enough outstanding requests to keep slapd busy; measured against ldapadd on 2 cores.
const MAX_IN_FLIGHT = 32;

export interface ExportContext {
  conn: LdapConnection;
  settings: LdapSettings;
  types: LdapTypePlan[];
}

/** An operation failed for a reason that belongs to the object, not to the connection. */
class ObjectFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface Job {
  client: Client;
  schema: DirectorySchema;
  plan?: LdapTypePlan;
  map: AttributeMap;
}

export async function exportOperations(ctx: ExportContext, ops: ExportOperation[]): Promise<ExportResult[]> {
  if (ops.length === 0) return [];
  const results: Array<ExportResult | undefined> = new Array(ops.length);
  let failure: unknown;
  let schema: DirectorySchema;
  try {
    await ctx.conn.get();
    schema = await ctx.conn.schema();
  } catch (err) {
    throw unavailable(ctx, err, []);
  }
  const maps = new Map<string, AttributeMap>();
  const mapFor = (plan: LdapTypePlan | undefined) => {
    const key = plan?.name ?? "";
    let m = maps.get(key);
    if (!m) maps.set(key, (m = attributeMap(plan, schema)));
    return m;
  };

  const inflight = new InFlight();
  const running = new Map<number, Promise<void>>();
  // Resolved whenever an operation finishes, to re-check what may start next.
  let wake: (() => void) | undefined;

  for (let i = 0; i < ops.length && failure === undefined; i++) {
    const op = ops[i];
    const plan = ctx.types.find((t) => t.name === op.objectType);
    const fp = footprint(op, plan);
    while (inflight.size >= MAX_IN_FLIGHT || inflight.mustWait(fp)) {
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (failure !== undefined) break;
    inflight.add(fp);
    const done = (async () => {
      try {
        const client = await ctx.conn.get();
        results[i] = await runOperation(op, { client, schema, plan, map: mapFor(plan) }, ctx);
      } catch (err) {
        if (err instanceof ObjectFailure) results[i] = { id: op.id, ok: false, code: err.code, message: err.message, retryable: err.retryable };
        else if (isConnectionError(err)) failure ??= err;
        else results[i] = objectError(op, err);
      } finally {
        inflight.remove(fp);
        running.delete(i);
        wake?.();
        wake = undefined;
      }
    })();
    running.set(i, done);
  }
  await Promise.all([...running.values()]);
  if (failure !== undefined) {
    ctx.conn.discard();
    throw unavailable(ctx, failure, results.filter((r): r is ExportResult => r !== undefined));
  }
  return results as ExportResult[];
}

function unavailable(ctx: ExportContext, err: unknown, partialResults: ExportResult[]): ConnectorUnavailableError {
  const base = err instanceof ConnectorUnavailableError ? err.message : `ManagementAgent ${ctx.settings.ma}: LDAP ${ctx.settings.url}: export interrupted: ${describe(err)}`;
  return new ConnectorUnavailableError(base, { partialResults, cause: err });
}

function objectError(op: ExportOperation, err: unknown): ExportResult {
  if (isResultError(err)) {
    const name = resultName(err);
    return { id: op.id, ok: false, code: name, message: `${op.op} ${op.dn ?? op.anchor ?? op.id}: ${name}: ${diagnostic(err)}`, retryable: isRetryable(err) };
  }
  return { id: op.id, ok: false, code: "exportError", message: `${op.op} ${op.dn ?? op.anchor ?? op.id}: ${describe(err)}`, retryable: true };
}

async function runOperation(op: ExportOperation, job: Job, ctx: ExportContext): Promise<ExportResult> {
  switch (op.op) {
    case "add":
      return add(op, job, ctx);
    case "update":
      return update(op, job, ctx);
    case "delete":
      return remove(op, job, ctx);
  }
}

function resultCode(err: unknown): string | undefined {
  return isResultError(err) ? resultName(err) : undefined;
}

// ---------------------------------------------------------------- add

async function add(op: Extract<ExportOperation, { op: "add" }>, job: Job, ctx: ExportContext): Promise<ExportResult> {
  if (!op.dn) throw new ObjectFailure("missingDn", `add ${op.id}: no DN (the outbound rule's dn expression gave none)`, false);
  const attributes = addAttributes(op.attrs, job);
  const postRead = ctx.settings.readAnchorAfterAdd ? new PostReadControl(anchorAttributes(job)) : undefined;
  try {
    await job.client.add(op.dn, attributes, postRead);
  } catch (err) {
    if (resultCode(err) !== "entryAlreadyExists") throw err;
    // Our own earlier add whose answer was lost looks exactly like what we want to write.
    const existing = await readBack(job, op.dn, attributes.map((a) => a.type));
    if (!existing || !sameContent(existing.entry, attributes, job)) {
      throw new ObjectFailure("entryAlreadyExists", `add ${op.dn}: entryAlreadyExists: an entry with this DN already exists with other values`, false);
    }
    return { id: op.id, ok: true, anchor: existing.anchor, dn: op.dn };
  }
  if (!postRead) return { id: op.id, ok: true, dn: op.dn };
  const anchor = postRead.entry ? anchorOfEntry(postRead.entry, job) : (await readBack(job, op.dn, []))?.anchor;
  return { id: op.id, ok: true, anchor, dn: op.dn };
}

function addAttributes(attrs: Record<string, AttrValue>, job: Job): Attribute[] {
  const classes = new Map<string, string>();
  for (const oc of job.plan?.objectClasses ?? []) classes.set(oc.toLowerCase(), oc);
  const out: Attribute[] = [];
  for (const [name, value] of Object.entries(attrs)) {
    if (name.toLowerCase() === "objectclass") {
      for (const oc of toWire(undefined, value)) classes.set(String(oc).toLowerCase(), String(oc));
      continue;
    }
    if (isNoUserModification(name)) continue;
    const values = toWire(job.map.spec(name), value);
    if (values.length === 0) continue;
    out.push(new Attribute({ type: job.map.wireName(name), values: values as string[] | Buffer[] }));
  }
  if (classes.size > 0) out.unshift(new Attribute({ type: "objectClass", values: [...classes.values()] }));
  return out;
}

/** Do the entry's values equal what an add would write? (objectClasses: all of ours present) */
function sameContent(entry: Entry, attributes: Attribute[], job: Job): boolean {
  for (const a of attributes) {
    const base = a.type.split(";")[0];
    const written = a.values as Array<string | Buffer>;
    const present = entryValuesAny(entry, base, job.schema);
    if (base.toLowerCase() === "objectclass") {
      const have = new Set(present.map((v) => String(v).toLowerCase()));
      if (!written.every((v) => have.has(String(v).toLowerCase()))) return false;
      continue;
    }
    const spec = job.map.spec(base);
    const want = new Set(written.map((v) => valueKey(spec, v)));
    const have = new Set(present.map((v) => valueKey(spec, v)));
    if (want.size !== have.size || [...want].some((w) => !have.has(w))) return false;
  }
  return true;
}

function entryValuesAny(entry: Entry, name: string, schema: DirectorySchema): Array<string | Buffer> {
  const key = schema.key(name);
  for (const [type, v] of Object.entries(entry)) {
    if (type !== "dn" && schema.key(type.split(";")[0]) === key) return Array.isArray(v) ? v : [v];
  }
  return [];
}

/** The attributes that make up the anchor of an entry of this job's type. */
function anchorAttributes(job: Job): string[] {
  return job.plan && !job.plan.entryUUIDAnchor ? job.plan.spec.anchor.map((a) => job.map.wireName(a)) : ["entryUUID"];
}

/** Reads one entry by DN: its anchor (entryUUID or declared anchor attributes) and the asked attributes. */
async function readBack(job: Job, dn: string, extra: string[]): Promise<{ entry: Entry; anchor?: string } | undefined> {
  try {
    const res = await job.client.search(dn, {
      scope: "base",
      filter: "(objectClass=*)",
      attributes: [...new Set([...anchorAttributes(job), ...extra])],
      explicitBufferAttributes: job.map.buffers,
    });
    const entry = res.searchEntries[0];
    if (!entry) return undefined;
    return { entry, anchor: anchorOfEntry(entry, job) };
  } catch (err) {
    if (isConnectionError(err)) throw err;
    if (resultCode(err) === "noSuchObject") return undefined;
    throw err;
  }
}

function anchorOfEntry(entry: Entry, job: Job): string | undefined {
  const r = readEntry(entry, job.map);
  if (!job.plan || job.plan.entryUUIDAnchor) return r.entryUUID;
  return anchorOf({ ...job.plan.spec, attributes: job.plan.attributes }, r.attrs);
}

/** Finds an entry's current DN by its anchor, searching under baseDN (the anchor value escaped). */
async function findByAnchor(job: Job, ctx: ExportContext, anchor: string | undefined): Promise<string | undefined> {
  return (await lookupByAnchor(job, ctx, anchor)).dn;
}

/**
 * findByAnchor, telling apart "the server says no entry carries this anchor" (`none`) from "could
 * not tell" (no anchor, a composite one, an ambiguous or failed search): only the former proves
 * that an entry is gone.
 */
async function lookupByAnchor(job: Job, ctx: ExportContext, anchor: string | undefined): Promise<{ dn?: string; none: boolean }> {
  if (!anchor || !job.plan) return { none: false };
  let filter: string;
  if (job.plan.entryUUIDAnchor) filter = equalityFilter("entryUUID", anchor);
  else if (job.plan.spec.anchor.length === 1) filter = equalityFilter(job.plan.spec.anchor[0], anchor);
  else return { none: false }; // a composite anchor cannot be split back reliably
  try {
    const res = await job.client.search(ctx.settings.baseDN, { scope: "sub", filter: parseFilter(`(&${job.plan.filter}${filter})`), attributes: ["1.1"], sizeLimit: 2 });
    return res.searchEntries.length === 1 ? { dn: res.searchEntries[0].dn, none: false } : { none: res.searchEntries.length === 0 };
  } catch (err) {
    if (isConnectionError(err)) throw err;
    return { none: false }; // e.g. an anchor that is not a valid UUID: nothing matches
  }
}

// ---------------------------------------------------------------- update

async function update(op: Extract<ExportOperation, { op: "update" }>, job: Job, ctx: ExportContext): Promise<ExportResult> {
  let dn = op.dn ?? (await findByAnchor(job, ctx, op.anchor));
  if (!dn) throw new ObjectFailure("noSuchObject", `update ${op.anchor ?? op.id}: no entry with this anchor under ${ctx.settings.baseDN}`, true);
  if (op.newDn && !dnEquals(op.newDn, dn)) {
    dn = await rename(dn, op.newDn, op, job, ctx);
  }
  const mods = modifications(op.changes, job, false);
  if (mods.length > 0) {
    try {
      await job.client.modify(dn, mods);
    } catch (err) {
      const code = resultCode(err);
      if (code === "attributeOrValueExists" || code === "noSuchAttribute") {
        // Our idea of the current values was stale: write the complete value sets instead.
        await job.client.modify(dn, modifications(op.changes, job, true));
      } else if (code === "noSuchObject" && !op.newDn) {
        const moved = await findByAnchor(job, ctx, op.anchor);
        if (!moved || dnEquals(moved, dn)) throw err;
        dn = moved;
        await job.client.modify(dn, modifications(op.changes, job, true));
      } else {
        throw err;
      }
    }
  }
  return { id: op.id, ok: true, anchor: op.anchor, dn };
}

async function rename(dn: string, newDn: string, op: ExportOperation, job: Job, ctx: ExportContext): Promise<string> {
  try {
    await job.client.modifyDN(dn, modifyDNTarget(newDn));
    return newDn;
  } catch (err) {
    if (resultCode(err) !== "noSuchObject") throw err;
  }
  // The source is gone: renamed already (a retried export) or elsewhere (renamed out of band).
  const current = await findByAnchor(job, ctx, op.anchor);
  if (current && dnEquals(current, newDn)) return newDn;
  if (current) {
    await job.client.modifyDN(current, modifyDNTarget(newDn));
    return newDn;
  }
  if (!op.anchor && (await readBack(job, newDn, []))) return newDn;
  throw new ObjectFailure("noSuchObject", `rename ${dn} → ${newDn}: noSuchObject: the entry is not there`, true);
}

/**
 * The modify request for a set of changes. Multi-valued attributes whose previous values are known
 * become an add of the new values and a delete of the removed ones (a 10k-member group gains one
 * member with a one-value add); otherwise, or when `replaceAll`, a replace of the whole value set.
 * A null value replaces with no values, which deletes the attribute and is a no-op if absent.
 */
function modifications(changes: Record<string, ValueChange>, job: Job, replaceAll: boolean): Change[] {
  const out: Change[] = [];
  for (const [name, change] of Object.entries(changes)) {
    if (isNoUserModification(name)) continue;
    const spec = job.map.spec(name);
    const type = job.map.wireName(name);
    const next = toWire(spec, change.replace);
    const multi = spec?.multiValued === true || Array.isArray(change.replace) || Array.isArray(change.previous);
    const known = change.previous !== undefined && change.previous !== null;
    if (!replaceAll && multi && known && next.length > 0) {
      const before = toWire(spec, change.previous);
      const nextKeys = new Set(next.map((v) => valueKey(spec, v)));
      const beforeKeys = new Set(before.map((v) => valueKey(spec, v)));
      const removed = before.filter((v) => !nextKeys.has(valueKey(spec, v)));
      const added = next.filter((v) => !beforeKeys.has(valueKey(spec, v)));
      if (removed.length > 0) out.push(new Change({ operation: "delete", modification: new Attribute({ type, values: removed as string[] | Buffer[] }) }));
      if (added.length > 0) out.push(new Change({ operation: "add", modification: new Attribute({ type, values: added as string[] | Buffer[] }) }));
      continue;
    }
    out.push(new Change({ operation: "replace", modification: new Attribute({ type, values: next as string[] | Buffer[] }) }));
  }
  return out;
}

// ---------------------------------------------------------------- delete

// A delete is `confirmed` when the server's answers prove the entry gone: its success answer, or
// noSuchObject for the DN together with an anchor search that finds no entry moved elsewhere. Then
// the engine needs no import to confirm it — which matters because a delta import without accesslog
// never sees deletions. When the anchor search cannot tell (a composite anchor, an ambiguous or
// failed search), the export still succeeds, unconfirmed, and the next full import decides.
async function remove(op: Extract<ExportOperation, { op: "delete" }>, job: Job, ctx: ExportContext): Promise<ExportResult> {
  if (!op.dn && !op.anchor) throw new ObjectFailure("missingDn", `delete ${op.id}: neither DN nor anchor`, false);
  let dn = op.dn;
  if (!dn) {
    const found = await lookupByAnchor(job, ctx, op.anchor);
    // Nothing carries this anchor: already gone.
    if (!found.dn) return { id: op.id, ok: true, anchor: op.anchor, ...(found.none ? { confirmed: true as const } : {}) };
    dn = found.dn;
  }
  try {
    await job.client.del(dn);
  } catch (err) {
    if (resultCode(err) !== "noSuchObject") throw err;
    // Without an anchor the DN is all that names the entry (an import matches it by DN as well), so
    // noSuchObject settles it; with one, the entry may have been renamed under our feet.
    const moved = op.anchor ? await lookupByAnchor(job, ctx, op.anchor) : { dn: undefined, none: true };
    // Already deleted.
    if (!moved.dn) return { id: op.id, ok: true, anchor: op.anchor, dn, ...(moved.none ? { confirmed: true as const } : {}) };
    dn = moved.dn;
    await job.client.del(dn);
  }
  return { id: op.id, ok: true, anchor: op.anchor, dn, confirmed: true };
}
