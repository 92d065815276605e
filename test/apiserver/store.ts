// The object store: what etcd plus the watch cache are to the real API server. One global,
// monotonically increasing revision stamps every write (an object's resourceVersion is the revision
// of its last write), and a bounded history of events per resource (as the real watch cache keeps
// one per resource, so a flood of Events does not expire ManagementAgent watches) lets watches
// resume from a resourceVersion. A resume from before the retained history is "too old"
// (410 Gone), exactly the situation informers must survive by re-listing.
import type { KObject } from "./resources.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  type: EventType;
  revision: number;
  storageKey: string;
  object: KObject;
  /** The object before this write (MODIFIED only): watches with selectors need both sides. */
  previous?: KObject;
}

export type ResumePoint = { events: StoredEvent[] } | { tooOld: true; oldest: number };

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

export class ObjectStore {
  private revision = 1;
  private readonly tables = new Map<string, Map<string, KObject>>();
  private readonly histories = new Map<string, { events: StoredEvent[]; watchableFrom: number }>();
  /** Watching any resource from a resourceVersion below this needs events we no longer have. */
  private compactedTo = 1;
  private readonly listeners = new Set<(event: StoredEvent) => void>();

  constructor(private readonly historyLimit: number) {}

  get currentRevision(): number {
    return this.revision;
  }

  get(storageKey: string, namespace: string | undefined, name: string): KObject | undefined {
    const obj = this.tables.get(storageKey)?.get(keyOf(namespace, name));
    return obj && structuredClone(obj);
  }

  /** Objects of one table, optionally one namespace, in a stable order (namespace, then name). */
  list(storageKey: string, namespace?: string): KObject[] {
    const table = this.tables.get(storageKey);
    if (!table) return [];
    return [...table.entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  /**
   * Persists a create, update or delete: stamps the next revision as the object's resourceVersion,
   * records the event and tells every watch, synchronously, so no watch can miss it.
   */
  write(type: EventType, storageKey: string, obj: KObject, previous?: KObject): KObject {
    this.revision += 1;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(this.revision);
    let table = this.tables.get(storageKey);
    if (!table) this.tables.set(storageKey, (table = new Map()));
    const key = keyOf(stored.metadata.namespace, stored.metadata.name ?? "");
    if (type === "DELETED") table.delete(key);
    else table.set(key, stored);

    const event: StoredEvent = { type, revision: this.revision, storageKey, object: stored, previous };
    let history = this.histories.get(storageKey);
    if (!history) this.histories.set(storageKey, (history = { events: [], watchableFrom: 1 }));
    history.events.push(event);
    while (history.events.length > this.historyLimit) history.watchableFrom = history.events.shift()!.revision;
    for (const listener of [...this.listeners]) listener(event);
    return structuredClone(stored);
  }

  /** One resource's events after `resourceVersion`, or the verdict that they are no longer known. */
  eventsAfter(storageKey: string, resourceVersion: number): ResumePoint {
    const history = this.histories.get(storageKey);
    const oldest = Math.max(this.compactedTo, history?.watchableFrom ?? 1);
    if (resourceVersion < oldest) return { tooOld: true, oldest };
    return { events: (history?.events ?? []).filter((e) => e.revision > resourceVersion) };
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Forgets all history, as an etcd compaction beyond the watch cache does: every resourceVersion
   * handed out so far becomes too old to watch from. The revision moves on by one so that a fresh
   * list returns a resourceVersion that *can* be watched (otherwise a client would loop 410 → list → 410).
   */
  compact(): void {
    this.histories.clear();
    this.revision += 1;
    this.compactedTo = this.revision;
  }
}
