// Run locks: one run at a time per management agent, and one sync at a time per metaverse.
//
// Two processes that run on one database at once (two `idsync cycle`, a cycle next to the
// operator, an erasure during a run) would both stage, join and provision the same objects:
// duplicate keys, empty metaverse objects, two connectors per MA. Every run therefore holds locks
// for what it writes (see lockKeysFor in src/engine/locks.ts): an import or export holds its MA; a
// sync, an erasure or a retention pass holds the metaverse and every MA.
//
// Across processes the locks are PostgreSQL session-level advisory locks, taken on a connection
// of their own (Database.openSession) so that they live exactly as long as the process: kill -9
// closes the connection and PostgreSQL releases them. Inside one process a map does the same
// (one session holds its advisory locks re-entrantly, so it cannot tell two of its own runs apart),
// and the embedded database is kept to one process by its lock file (embedded-lock.ts).
//
// Keys are taken all-or-nothing in sorted order with try-locks, so two runs never deadlock: a run
// that cannot have every key releases what it took and waits (or gives up with LockBusyError).
import { AsyncLocalStorage } from "node:async_hooks";
import { hostname } from "node:os";
import type { Database, DedicatedSession } from "./db.ts";

/** A lock is busy: `message` says who holds it since when, in words an operator can act on. */
export class LockBusyError extends Error {
  override name = "LockBusyError";
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

export interface LockOptions {
  /** What the caller is about to do, for the holder record ("full-import of hr"). */
  what: string;
  /** How long to wait for busy locks; 0 (the default) gives up at once. */
  waitMs?: number;
  /** Stops waiting (shutdown). */
  signal?: AbortSignal;
}

interface Held {
  keys: Set<string>;
  /** True once a session that carries these locks was lost: the holder must stop. */
  lost(): boolean;
}

const ADVISORY_CLASS = 7_220_302; // arbitrary, constant: "idsync run locks" (migrations use 7_220_301)
const POLL_MS = 250;

/** Who this process is, as the holder record shows it: never an argument (a URL may hold a password). */
export function processHolder(name = "idsync"): string {
  return `${name} (pid ${process.pid} on ${hostname()})`;
}

export class RunLocks {
  private readonly inProcess = new Map<string, { what: string; since: Date }>();
  private session: DedicatedSession | undefined;
  private opening: Promise<DedicatedSession> | undefined;
  private readonly context = new AsyncLocalStorage<Held>();

  constructor(
    private readonly db: Database,
    private readonly holder = processHolder(),
  ) {}

  /** True when the locks the current run holds may no longer be held (their connection dropped). */
  lost(): boolean {
    return this.context.getStore()?.lost() ?? false;
  }

  /**
   * Runs fn holding every key. Re-entrant along the async call chain: a run started from inside an
   * erasure (which holds everything) takes nothing more.
   */
  async with<T>(names: string[], opts: LockOptions, fn: () => Promise<T>): Promise<T> {
    // A Database in a schema of its own (one namespace's engine) locks within it: MA hr of one
    // namespace and MA hr of another are different MAs.
    const keys = this.db.scope ? names.map((k) => `${this.db.scope}/${k}`) : names;
    const outer = this.context.getStore();
    // Sorted (the metaverse first, so that a refused sync names it), the same order in every process.
    const missing = [...new Set(keys)].filter((k) => !outer?.keys.has(k)).sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0));
    if (missing.length === 0) return fn();
    const session = await this.acquire(missing, opts);
    const held: Held = {
      keys: new Set([...(outer?.keys ?? []), ...missing]),
      lost: () => (session?.lost ?? false) || (outer?.lost() ?? false),
    };
    try {
      return await this.context.run(held, fn);
    } finally {
      await this.release(missing, session);
    }
  }

  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }

  private async acquire(keys: string[], opts: LockOptions): Promise<DedicatedSession | undefined> {
    const deadline = Date.now() + Math.max(0, opts.waitMs ?? 0);
    for (;;) {
      const busy = await this.tryAcquire(keys, opts.what);
      if (busy === undefined) return this.session;
      if (Date.now() >= deadline || opts.signal?.aborted) throw new LockBusyError(busy, await this.describeBusy(busy));
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }

  /** Takes every key or none; returns the first busy key, or undefined when all are held now. */
  private async tryAcquire(keys: string[], what: string): Promise<string | undefined> {
    const busyHere = keys.find((k) => this.inProcess.has(k));
    if (busyHere) return busyHere;
    // Reserved in this process before the first await, so two runs of this process cannot both
    // get past the check while the advisory locks are being taken.
    const since = new Date();
    for (const key of keys) this.inProcess.set(key, { what, since });
    const taken: string[] = [];
    let session: DedicatedSession | undefined;
    try {
      session = await this.sessionFor();
      if (session) {
        for (const key of keys) {
          const r = await session.query<{ ok: boolean }>(`select pg_try_advisory_lock($1::int, $2::int) as ok`, [ADVISORY_CLASS, keyHash(key)]);
          if (!r.rows[0].ok) {
            for (const k of taken) await session.query(`select pg_advisory_unlock($1::int, $2::int)`, [ADVISORY_CLASS, keyHash(k)]);
            for (const k of keys) this.inProcess.delete(k);
            return key;
          }
          taken.push(key);
        }
      }
      // Who holds it, for the message a second process prints. Written after the locks are ours,
      // so a row can only be stale for a holder that died, never wrong for a live one.
      await (session ?? this.db).query(
        `insert into run_lock (key, holder, what, acquired_at) select k, $2, $3, $4::timestamptz from unnest($1::text[]) k
         on conflict (key) do update set holder = excluded.holder, what = excluded.what, acquired_at = excluded.acquired_at`,
        [keys, this.holder, what, since.toISOString()],
      );
      return undefined;
    } catch (e) {
      for (const k of keys) this.inProcess.delete(k);
      if (session && !session.lost) for (const k of taken) await session.query(`select pg_advisory_unlock($1::int, $2::int)`, [ADVISORY_CLASS, keyHash(k)]).catch(() => undefined);
      throw e;
    }
  }

  private async release(keys: string[], session: DedicatedSession | undefined): Promise<void> {
    for (const key of keys) this.inProcess.delete(key);
    if (session?.lost) return; // the server released them with the connection
    try {
      await (session ?? this.db).query(`delete from run_lock where key = any($1::text[]) and holder = $2`, [keys, this.holder]);
      if (session) for (const key of keys) await session.query(`select pg_advisory_unlock($1::int, $2::int)`, [ADVISORY_CLASS, keyHash(key)]);
    } catch {
      // The database went away: its locks went with the connection. Nothing to undo.
    }
  }

  private async sessionFor(): Promise<DedicatedSession | undefined> {
    if (!this.db.openSession) return undefined;
    if (this.session && !this.session.lost) return this.session;
    this.opening ??= this.db.openSession().finally(() => (this.opening = undefined));
    this.session = await this.opening;
    return this.session;
  }

  private async describeBusy(key: string): Promise<string> {
    const subject = describeKey(key);
    const here = this.inProcess.get(key);
    if (here) return `${subject} by this process (${here.what}) since ${here.since.toISOString()}`;
    const row = (
      await this.db.query<{ holder: string; what: string; acquired_at: Date | string }>(`select holder, what, acquired_at from run_lock where key = $1`, [key]).catch(() => ({ rows: [] }))
    ).rows[0];
    if (!row) return `${subject} by another process`;
    return `${subject} by ${row.holder} (${row.what}) since ${new Date(row.acquired_at).toISOString()}`;
  }
}

function rank(key: string): number {
  return key.includes("ma:") ? 1 : 0;
}

/** "ma:hr" → "MA hr is being run"; "metaverse" → "the metaverse is being synchronized". */
function describeKey(scoped: string): string {
  const key = scoped.slice(scoped.indexOf("/") + 1);
  if (key.startsWith("ma:")) return `MA ${key.slice(3)} is being run`;
  if (key === "metaverse") return "the metaverse is being synchronized";
  return `${key} is locked`;
}

/** A stable 32-bit hash of a key (FNV-1a): the advisory lock's second half. Collisions only serialize more. */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, "utf8")) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** The locks of one Database, shared by everything in this process that uses it. */
const registry = new WeakMap<Database, RunLocks>();

export function runLocksFor(db: Database, holder?: string): RunLocks {
  let locks = registry.get(db);
  if (!locks) registry.set(db, (locks = new RunLocks(db, holder)));
  return locks;
}
