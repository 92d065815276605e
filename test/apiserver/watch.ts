// Watches: a chunked HTTP response of one JSON event per line, as the real server streams them.
// - no resourceVersion (or "0"): synthetic ADDED events for what exists, then live changes;
// - resourceVersion N: every change after N from the store's history, then live changes; if the
//   history no longer reaches back to N, one ERROR event carrying a 410 Expired Status, then the
//   stream ends (clients must re-list);
// - allowWatchBookmarks: periodic BOOKMARK events carrying the latest resourceVersion;
// - selectors see transitions: an object that stops matching is DELETED for this watch, one that
//   starts matching is ADDED.
import type { ServerResponse } from "node:http";
import { expired } from "./errors.ts";
import type { KObject } from "./resources.ts";
import type { ObjectStore, StoredEvent } from "./store.ts";

export interface WatchRequest {
  storageKey: string;
  kind: string;
  apiVersion: string;
  /** Namespace, label and field selector of the request. */
  matches(obj: KObject): boolean;
  /** The stored object as this request's group/version (or Table) shows it. */
  view(obj: KObject): unknown;
  /** Undefined: start with the current state; a number: resume after that resourceVersion. */
  resumeAfter?: number;
  /** Current objects of the table, for a watch without a resourceVersion. */
  current(): KObject[];
  bookmarks: boolean;
  timeoutSeconds?: number;
}

interface OpenWatch {
  end(abruptly: boolean): void;
}

type WireEvent = { type: string; object: unknown };

export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: ObjectStore,
    private readonly bookmarkIntervalMs: number,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /** What a stored event looks like through one watch's selectors, if it sees it at all. */
  private translate(w: WatchRequest, e: StoredEvent): WireEvent | undefined {
    if (e.storageKey !== w.storageKey) return undefined;
    const now = w.matches(e.object);
    if (e.type !== "MODIFIED") return now ? { type: e.type, object: w.view(e.object) } : undefined;
    const before = e.previous ? w.matches(e.previous) : false;
    if (now && before) return { type: "MODIFIED", object: w.view(e.object) };
    if (now) return { type: "ADDED", object: w.view(e.object) };
    if (before) return { type: "DELETED", object: w.view(e.object) };
    return undefined;
  }

  serve(res: ServerResponse, w: WatchRequest): void {
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const send = (event: WireEvent) => res.write(JSON.stringify(event) + "\n");

    if (w.resumeAfter !== undefined) {
      const resume = this.store.eventsAfter(w.storageKey, w.resumeAfter);
      if ("tooOld" in resume) {
        send({ type: "ERROR", object: expired(`too old resource version: ${w.resumeAfter} (${resume.oldest})`).toStatus() });
        res.end();
        return;
      }
      for (const e of resume.events) {
        const wire = this.translate(w, e);
        if (wire) send(wire);
      }
    } else {
      for (const obj of w.current()) if (w.matches(obj)) send({ type: "ADDED", object: w.view(obj) });
    }

    // Subscribing in the same tick as the replay above: no write can fall between the two.
    const unsubscribe = this.store.subscribe((e) => {
      const wire = this.translate(w, e);
      if (wire) send(wire);
    });
    const timers: NodeJS.Timeout[] = [];
    if (w.bookmarks) {
      timers.push(
        setInterval(() => {
          send({
            type: "BOOKMARK",
            object: { kind: w.kind, apiVersion: w.apiVersion, metadata: { resourceVersion: String(this.store.currentRevision) } },
          });
        }, this.bookmarkIntervalMs),
      );
    }
    const handle: OpenWatch = {
      end: (abruptly) => {
        cleanup();
        if (abruptly) res.socket?.destroy();
        else res.end();
      },
    };
    // The real server ends every watch after a while (timeoutSeconds, or its own limit): gracefully.
    if (w.timeoutSeconds !== undefined) timers.push(setTimeout(() => handle.end(false), w.timeoutSeconds * 1000));
    const cleanup = () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(handle);
    };
    this.open.add(handle);
    // Not req's "close": that fires once the (empty) request body is read, not when the client goes.
    res.on("close", cleanup);
  }

  /** Ends every open watch: abruptly (connection reset) or as a server-side timeout would. */
  endAll(abruptly: boolean): void {
    for (const w of [...this.open]) w.end(abruptly);
  }
}
