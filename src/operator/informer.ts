// A list-watch informer with a watchdog. client-node 1.4's Watch has no timeout (its 30 s signal is
// overwritten before use) and its ListWatch stops for good on most errors, so this one owns the loop:
//
//   list (paginated) → diff against the cache → emit add/update/delete → watch from the list's
//   resourceVersion → apply events to the cache → ...
//
// and recovers from everything the API server can do to a watch:
//   - the watch ends cleanly (server timeout): watch again from the last resourceVersion;
//   - the watch errors or cannot be opened (connection reset, API server restarting): back off
//     exponentially with jitter, then re-list;
//   - 410 Gone (an ERROR event or an HTTP 410: the resourceVersion was compacted away): re-list at once;
//   - the connection hangs silently (half-open TCP, a proxy that stopped forwarding): every
//     relistIntervalMs the watch is abandoned and the informer re-lists anyway.
// A re-list is diffed against the cache, so a change that happened while no watch was open — even a
// deletion — is still delivered as an event: nothing is lost, only possibly coalesced.
import type { Watch } from "@kubernetes/client-node";
import { apiErrorCode, describeApiError } from "./kube.ts";
import { silentLogger, type Logger } from "./log.ts";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export type InformerEvent<T> =
  | { type: "add"; object: T }
  | { type: "update"; object: T; old: T }
  | { type: "delete"; object: T };

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export type RelistReason = "initial" | "expired" | "error" | "periodic";

export interface InformerOptions<T extends KubeObject> {
  /** For logs and metrics, e.g. "managementagents". */
  name: string;
  /** One page of the collection (limit/continue are passed through). */
  list(page: { limit: number; continue?: string }): Promise<ListPage<T>>;
  /** The collection's path, e.g. /apis/idsync.dev/v1alpha1/namespaces/ns/managementagents. */
  watchPath: string;
  watch: Watch;
  /** Abandon the watch and re-list this often (default 5 min, ±10 % jitter). */
  relistIntervalMs?: number;
  /** Asked of the server for each watch (default 300–600 s, randomized like client-go). */
  watchTimeoutSeconds?: number;
  /** Back-off after errors: initial and cap (default 200 ms … 30 s), with full jitter. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  pageSize?: number;
  logger?: Logger;
  onRelist?: (reason: RelistReason) => void;
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

type WatchEnd = { kind: "closed" } | { kind: "gone" } | { kind: "error"; error: unknown } | { kind: "relist" } | { kind: "stopped" };

export class Informer<T extends KubeObject> {
  private cache = new Map<string, T>();
  private readonly handlers: Array<(e: InformerEvent<T>) => void> = [];
  private resourceVersion = "";
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private endCurrentWatch: ((end: WatchEnd) => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: InformerOptions<T>) {
    this.log = (opts.logger ?? silentLogger).child({ informer: opts.name });
  }

  /** Registers an event handler; handlers run synchronously, in order, and must not throw. */
  on(handler: (e: InformerEvent<T>) => void): void {
    this.handlers.push(handler);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ""}/${name}`);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first successful list (or when the informer stops). */
  waitForSync(): Promise<void> {
    if (this.synced || this.stopController.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    this.loop ??= this.run().catch((e) => this.log.error("informer loop failed", { error: describeApiError(e) }));
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.endCurrentWatch?.({ kind: "stopped" });
    for (const w of this.syncWaiters.splice(0)) w();
    await this.loop;
  }

  /** Makes the informer abandon its watch and re-list now (tests, and a manual resync). */
  relistNow(): void {
    this.endCurrentWatch?.({ kind: "relist" });
  }

  private emit(e: InformerEvent<T>): void {
    for (const h of this.handlers) {
      try {
        h(e);
      } catch (err) {
        this.log.error("informer handler threw", { error: (err as Error).message });
      }
    }
  }

  private async listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.opts.list({ limit: this.opts.pageSize ?? 500, continue: cont });
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  /** Replaces the cache with a fresh list and emits the differences as events. */
  private replace(items: T[]): void {
    const next = new Map<string, T>();
    for (const item of items) next.set(keyOf(item), item);
    const old = this.cache;
    this.cache = next;
    for (const [key, object] of next) {
      const before = old.get(key);
      if (!before) this.emit({ type: "add", object });
      else if (before.metadata.resourceVersion !== object.metadata.resourceVersion) this.emit({ type: "update", object, old: before });
    }
    for (const [key, object] of old) if (!next.has(key)) this.emit({ type: "delete", object });
  }

  private backoff(failures: number): number {
    const initial = this.opts.backoffInitialMs ?? 200;
    const cap = Math.min(this.opts.backoffMaxMs ?? 30_000, initial * 2 ** Math.min(failures, 20));
    return cap / 2 + Math.random() * (cap / 2); // "equal jitter": never hammer, never wait 0
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    let needList: RelistReason | undefined = "initial";
    let failures = 0;
    while (!signal.aborted) {
      if (needList) {
        try {
          const { items, resourceVersion } = await this.listAll();
          if (signal.aborted) return;
          this.replace(items);
          this.resourceVersion = resourceVersion;
          this.opts.onRelist?.(needList);
          this.log.debug("listed", { reason: needList, items: items.length, resourceVersion });
          needList = undefined;
          if (!this.synced) {
            this.synced = true;
            for (const w of this.syncWaiters.splice(0)) w();
          }
        } catch (e) {
          failures++;
          const wait = this.backoff(failures);
          this.log.warn("list failed", { error: describeApiError(e), retryInMs: Math.round(wait) });
          await sleep(wait, signal);
          continue;
        }
      }
      const started = Date.now();
      const end = await this.watchOnce();
      if (signal.aborted || end.kind === "stopped") return;
      if (end.kind === "gone") {
        this.log.info("watch expired (410 Gone): re-listing");
        needList = "expired";
        failures = 0;
      } else if (end.kind === "relist") {
        needList = "periodic";
      } else if (end.kind === "error") {
        failures++;
        const wait = this.backoff(failures);
        this.log.warn("watch failed: re-listing after back-off", { error: describeApiError(end.error), retryInMs: Math.round(wait) });
        await sleep(wait, signal);
        needList = "error";
      } else {
        // A clean end is the server's timeout: resume from where we are. One that came at once
        // (a server refusing watches) backs off like an error so the loop cannot spin.
        if (Date.now() - started < 1000) {
          failures++;
          await sleep(this.backoff(failures), signal);
        } else failures = 0;
      }
    }
  }

  /** Opens one watch and resolves with how it ended. */
  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let finished = false;
      let controller: AbortController | undefined;
      let relistTimer: NodeJS.Timeout | undefined;
      const finish = (end: WatchEnd) => {
        if (finished) return;
        finished = true;
        if (relistTimer) clearTimeout(relistTimer);
        this.endCurrentWatch = undefined;
        controller?.abort();
        resolve(end);
      };
      this.endCurrentWatch = finish;
      const interval = this.opts.relistIntervalMs ?? 300_000;
      relistTimer = setTimeout(() => finish({ kind: "relist" }), interval * (0.9 + Math.random() * 0.2));
      relistTimer.unref();
      const timeoutSeconds = this.opts.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300);
      const onEvent = (type: string, object: T) => {
        if (finished) return; // lines still buffered after we gave up on this watch
        this.onWatchEvent(type, object, finish);
      };
      this.opts.watch
        .watch(
          this.opts.watchPath,
          { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          onEvent,
          (err: unknown) => {
            if (err && apiErrorCode(err) === 410) finish({ kind: "gone" });
            else if (err && (err as Error).name !== "AbortError") finish({ kind: "error", error: err });
            else finish({ kind: "closed" });
          },
        )
        .then((c) => {
          controller = c;
          if (finished) c.abort();
        })
        .catch((err: unknown) => finish({ kind: "error", error: err }));
    });
  }

  private onWatchEvent(type: string, object: T, finish: (end: WatchEnd) => void): void {
    if (type === "ERROR") {
      const status = object as unknown as { code?: number; message?: string };
      if (status.code === 410) finish({ kind: "gone" });
      else finish({ kind: "error", error: new Error(`watch ERROR event: ${status.code ?? "?"} ${status.message ?? ""}`) });
      return;
    }
    const rv = object?.metadata?.resourceVersion;
    if (type === "BOOKMARK") {
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (!object?.metadata?.name) return;
    const key = keyOf(object);
    if (type === "ADDED" || type === "MODIFIED") {
      const before = this.cache.get(key);
      this.cache.set(key, object);
      if (!before) this.emit({ type: "add", object });
      else if (before.metadata.resourceVersion !== rv) this.emit({ type: "update", object, old: before });
    } else if (type === "DELETED") {
      const before = this.cache.get(key);
      this.cache.delete(key);
      this.emit({ type: "delete", object: before && before.metadata.resourceVersion === rv ? before : object });
    }
    if (rv) this.resourceVersion = rv;
  }
}
