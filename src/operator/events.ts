// core/v1 Events about the custom resources: runs, errors, blocked deletes. Like client-go's
// EventCorrelator, a repeat of the same event (object, type, reason, message) is not a new Event:
// the existing one gets count+1 and a new lastTimestamp, so a schedule that fails every five minutes
// shows one Event with a growing count instead of flooding `kubectl describe`.
import { randomBytes } from "node:crypto";
import type { CoreV1Api, CoreV1Event } from "@kubernetes/client-node";
import { apiErrorCode, describeApiError, MERGE_PATCH } from "./kube.ts";
import { silentLogger, type Logger } from "./log.ts";

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  core: CoreV1Api;
  /** source.component / reportingComponent, e.g. "idsync-operator". */
  component: string;
  /** The replica: source.host / reportingInstance. */
  instance: string;
  logger?: Logger;
  /** How many distinct events to remember for de-duplication (default 4096). */
  cacheSize?: number;
  now?: () => Date;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

const MAX_MESSAGE = 1024;

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private pending: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: EventRecorderOptions) {
    this.log = opts.logger ?? silentLogger;
  }

  /** Records an event; never throws and never blocks the caller (await flush() to wait for it). */
  record(object: InvolvedObject, type: EventType, reason: string, message: string): void {
    const text = message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE - 1) + "…" : message;
    const at = (this.opts.now ?? (() => new Date()))(); // when it happened, not when it is written
    // Written one after the other: a repeat must find the Event its predecessor created.
    this.pending = this.pending.then(() => this.write(object, type, reason, text, at)).catch(() => undefined);
  }

  /** Resolves when every recorded event has been written (or has failed). */
  flush(): Promise<void> {
    return this.pending.then(() => undefined);
  }

  private async write(object: InvolvedObject, type: EventType, reason: string, message: string, now: Date): Promise<void> {
    const namespace = object.namespace ?? "default";
    const key = JSON.stringify([object.uid ?? "", object.kind, namespace, object.name, type, reason, message]);
    const seen = this.seen.get(key);
    if (seen) {
      try {
        await this.opts.core.patchNamespacedEvent(
          { name: seen.name, namespace: seen.namespace, body: { count: seen.count + 1, lastTimestamp: now.toISOString() } },
          MERGE_PATCH,
        );
        seen.count++;
        this.seen.delete(key);
        this.seen.set(key, seen); // most recently used last
        return;
      } catch (e) {
        if (apiErrorCode(e) !== 404) {
          this.log.warn("could not update event", { reason, object: `${object.kind}/${namespace}/${object.name}`, error: describeApiError(e) });
          return;
        }
        this.seen.delete(key); // expired by the server's event TTL: start a new one
      }
    }
    const name = `${object.name}.${randomBytes(8).toString("hex")}`;
    const body: CoreV1Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, namespace, name: object.name, uid: object.uid },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.opts.component, host: this.opts.instance },
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance,
    };
    try {
      await this.opts.core.createNamespacedEvent({ namespace, body });
      this.seen.set(key, { name, namespace, count: 1 });
      const max = this.opts.cacheSize ?? 4096;
      while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value!);
    } catch (e) {
      this.log.warn("could not record event", { reason, object: `${object.kind}/${namespace}/${object.name}`, error: describeApiError(e) });
    }
  }
}
