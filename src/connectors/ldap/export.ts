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
import { AndFilter, Attribute, type Change, type Client, type Control, type Entry, type Filter, type ResultCodeError } from "ldapts";
import { ConnectorUnavailableError } from "../errors.ts";
import type { AttrValue, Attributes, ExportOperation, ExportResult, ValueChange } from "../types.ts";
import { anchorOf } from "../types.ts";
import { describe, diagnostic, isConnectionError, isResultError, isRetryable, resultName, serverName, type LdapConnection } from "./connection.ts";
import { dnEquals, modifyDNTarget } from "./dn.ts";
import { equalityFilter, parseFilter } from "./filter.ts";
import type { DirectorySchema } from "./schema.ts";
import { PostReadControl } from "./postread.ts";
import { againstCurrent, modifications } from "./modify.ts";
import { footprint, InFlight } from "./schedule.ts";
import type { LdapSettings, LdapTypePlan } from "./settings.ts";
import { attributeMap, isNoUserModification, readEntry, toWire, valueKey, type AttributeMap } from "./values.ts";

// Enough outstanding requests to keep slapd busy; measured against ldapadd on 2 cores.
const MAX_IN_FLIGHT = 32;

export interface ExportContext {
  conn: LdapConnection;
  settings: LdapSettings;
  types: LdapTypePlan[];
  dialect?: ExportDialect;
}

type AddOperation = Extract<ExportOperation, { op: "add" }>;
type UpdateOperation = Extract<ExportOperation, { op: "update" }>;

/**
 * What a directory adds to plain LDAP export (Active Directory: initial passwords, account control
 * bits, value limits, tree delete, its own error texts). Every hook is optional.
 */
export interface ExportDialect {
  /** Refuses an operation before anything is sent (throws ObjectFailure): values the directory would refuse. */
  check?(op: ExportOperation, plan: LdapTypePlan | undefined): void;
  /**
   * An add's attributes: `attrs` go through the generic mapping (and are compared when a retried
   * add finds its entry already there); `extra` are sent as they are and never compared (a password).
   */
  add?(op: AddOperation, plan: LdapTypePlan | undefined): { attrs: Attributes; extra: Attribute[] };
  /** An update's changes, and modifications of its own (may read the entry at `dn` first). */
  update?(op: UpdateOperation, dn: string, job: Job): Promise<{ changes: Record<string, ValueChange>; extra: Change[] }>;
  /** Controls sent with the delete of an entry of this type (Tree Delete for a container). */
  deleteControls?(plan: LdapTypePlan | undefined): Control[];
  /** The failure says the values we assumed were there are not (AD: a member DN that moved on). */
  staleValues?(err: ResultCodeError): boolean;
  /** A per-object failure in the directory's own words; undefined: the generic description. */
  explain?(err: ResultCodeError): { code: string; message: string; retryable: boolean } | undefined;
}

/** An operation failed for a reason that belongs to the object, not to the connection. */
export class ObjectFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface Job {
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
        else results[i] = objectError(op, err, ctx.dialect);
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
  const base = err instanceof ConnectorUnavailableError ? err.message : `${serverName(ctx.settings)}: export interrupted: ${describe(err)}`;
  return new ConnectorUnavailableError(base, { partialResults, cause: err });
}

function objectError(op: ExportOperation, err: unknown, dialect?: ExportDialect): ExportResult {
  if (isResultError(err)) {
    const own = dialect?.explain?.(err);
    if (own) return { id: op.id, ok: false, code: own.code, message: `${op.op} ${op.dn ?? op.anchor ?? op.id}: ${own.message}`, retryable: own.retryable };
    const name = resultName(err);
    return { id: op.id, ok: false, code: name, message: `${op.op} ${op.dn ?? op.anchor ?? op.id}: ${name}: ${diagnostic(err)}`, retryable: isRetryable(err) };
  }
  return { id: op.id, ok: false, code: "exportError", message: `${op.op} ${op.dn ?? op.anchor ?? op.id}: ${describe(err)}`, retryable: true };
}

async function runOperation(op: ExportOperation, job: Job, ctx: ExportContext): Promise<ExportResult> {
  ctx.dialect?.check?.(op, job.plan);
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
  const own = ctx.dialect?.add?.(op, job.plan);
  const attributes = addAttributes(own?.attrs ?? op.attrs, job);
  const postRead = ctx.settings.readAnchorAfterAdd && ctx.settings.postRead ? new PostReadControl(anchorAttributes(job)) : undefined;
  try {
    await job.client.add(op.dn, own && own.extra.length > 0 ? [...attributes, ...own.extra] : attributes, postRead);
  } catch (err) {
    if (resultCode(err) !== "entryAlreadyExists") throw err;
    // Our own earlier add whose answer was lost looks exactly like what we want to write.
    const existing = await readBack(job, op.dn, attributes.map((a) => a.type));
    // Nothing at this DN: the server meant some other clash (AD: a sAMAccountName in use elsewhere),
    // which its own answer says best.
    if (!existing) throw err;
    if (!sameContent(existing.entry, attributes, job)) {
      throw new ObjectFailure("entryAlreadyExists", `add ${op.dn}: entryAlreadyExists: an entry with this DN already exists with other values`, false);
    }
    return { id: op.id, ok: true, anchor: existing.anchor, dn: op.dn };
  }
  if (!ctx.settings.readAnchorAfterAdd) return { id: op.id, ok: true, dn: op.dn };
  const anchor = postRead?.entry ? anchorOfEntry(postRead.entry, job) : (await readBack(job, op.dn, []))?.anchor;
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
  if (job.plan && !job.plan.serverAnchor) return job.plan.spec.anchor.map((a) => job.map.wireName(a));
  return [job.plan?.serverAnchor?.attribute ?? "entryUUID"];
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
  if (!job.plan || job.plan.serverAnchor) return r.serverAnchor;
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
  let filter: Filter | undefined;
  if (job.plan.serverAnchor) filter = job.plan.serverAnchor.filter(anchor);
  else if (job.plan.spec.anchor.length === 1) filter = parseFilter(equalityFilter(job.plan.spec.anchor[0], anchor));
  // A composite anchor cannot be split back reliably; a malformed one matches nothing we could name.
  if (!filter) return { none: false };
  try {
    const res = await job.client.search(ctx.settings.baseDN, {
      scope: "sub",
      filter: new AndFilter({ filters: [parseFilter(job.plan.filter), filter] }),
      attributes: ["1.1"],
      sizeLimit: 2,
    });
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
  const own = ctx.dialect?.update ? await ctx.dialect.update(op, dn, job) : { changes: op.changes, extra: [] };
  const mods = [...modifications(own.changes, job, false), ...own.extra];
  if (mods.length > 0) {
    try {
      await job.client.modify(dn, mods);
    } catch (err) {
      const code = resultCode(err);
      if (code === "attributeOrValueExists" || code === "noSuchAttribute" || (isResultError(err) && ctx.dialect?.staleValues?.(err))) {
        // Our idea of the current values was stale (changed out of band; in AD, a DN value that
        // followed its object's rename by itself): read them, and send only the difference.
        const fresh = [...(await againstCurrent(own.changes, dn, job)), ...own.extra];
        if (fresh.length > 0) await job.client.modify(dn, fresh);
      } else if (code === "noSuchObject" && !op.newDn) {
        const moved = await findByAnchor(job, ctx, op.anchor);
        if (!moved || dnEquals(moved, dn)) throw err;
        dn = moved;
        const fresh = [...(await againstCurrent(own.changes, moved, job)), ...own.extra];
        if (fresh.length > 0) await job.client.modify(dn, fresh);
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
  const controls = ctx.dialect?.deleteControls?.(job.plan);
  try {
    await job.client.del(dn, controls);
  } catch (err) {
    if (resultCode(err) !== "noSuchObject") throw err;
    // Without an anchor the DN is all that names the entry (an import matches it by DN as well), so
    // noSuchObject settles it; with one, the entry may have been renamed under our feet.
    const moved = op.anchor ? await lookupByAnchor(job, ctx, op.anchor) : { dn: undefined, none: true };
    // Already deleted.
    if (!moved.dn) return { id: op.id, ok: true, anchor: op.anchor, dn, ...(moved.none ? { confirmed: true as const } : {}) };
    dn = moved.dn;
    await job.client.del(dn, controls);
  }
  return { id: op.id, ok: true, anchor: op.anchor, dn, confirmed: true };
}
