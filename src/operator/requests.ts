// One-shot requests on a ManagementAgent, as annotations:
//   idsync.dev/run: <profile>[@token]   runs a profile once;
//   idsync.dev/allow-deletes: "<n>"     releases, once, what the deletion guard holds if it is at most
//                                       n deletes (an import's, by running it again, or an export's).
// Once acted on, the operator removes the annotation (a JSON patch that first tests the value, so a
// new request written meanwhile is never removed unseen) and keeps the record in status
// (lastHandledRunRequest, lastHandledAllowDeletes): a request is not a setting, and left on the
// object it would show as drift against git for ever (`idsync drift --cluster`).
//
// A request is acted on once: the status is written before the annotation is removed, so a leader
// that dies in between leaves an annotation whose value its successor finds in status — handled,
// removed without running again. After the removal has been seen, the same value written again is a
// new request.
import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from "@kubernetes/client-node";
import type { ManagementAgentStatus } from "../engine/types.ts";
import type { EventRecorder, InvolvedObject } from "./events.ts";
import { apiErrorCode, RESOURCE_TYPES } from "./kube.ts";
import { findDatabaseUnavailable } from "../store/pgconfig.ts";
import type { CustomObject } from "./reconciler.ts";
import type { RequestedProfile, RunRequest } from "./runqueue.ts";

export const RUN_ANNOTATION = "idsync.dev/run";
export const ALLOW_DELETES_ANNOTATION = "idsync.dev/allow-deletes";
const PROFILES = new Set<string>(["full-import", "delta-import", "full-sync", "delta-sync", "export", "cycle"]);
const JSON_PATCH = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

type What = "run" | "allowDeletes";
const ANNOTATION: Record<What, string> = { run: RUN_ANNOTATION, allowDeletes: ALLOW_DELETES_ANNOTATION };
const STATUS_FIELD: Record<What, string> = { run: "lastHandledRunRequest", allowDeletes: "lastHandledAllowDeletes" };

interface Handled {
  value: string;
  /** The object has been seen without this value since it was handled: the same value again is new. */
  cleared: boolean;
}

/** What the requests need from the namespace they belong to. */
export interface RequestHost {
  custom: CustomObjectsApi;
  events: EventRecorder;
  /** Whether the engine runs some generation of the resource. */
  isApplied(key: string): boolean;
  engineStatus(ma: string): ManagementAgentStatus | undefined;
  /** Queues a run in the namespace's run queue. */
  run(request: RunRequest): Promise<unknown>;
  requeue(key: string): void;
  involved(o: CustomObject): InvolvedObject;
}

export class OneShotRequests {
  private readonly handled = new Map<string, Partial<Record<What, Handled>>>();
  private readonly inflight = new Set<string>();

  constructor(private readonly host: RequestHost) {}

  /** Starts what the MA's annotations ask for, if not yet done (never waits for a run). */
  handle(key: string, o: CustomObject): void {
    const run = this.pending(key, o, "run");
    if (run !== undefined) this.handleRun(key, o, run);
    const allow = this.pending(key, o, "allowDeletes");
    if (allow !== undefined) this.handleAllowDeletes(key, o, allow);
  }

  /** The last handled value (shown in status). */
  lastHandled(key: string, o: CustomObject, what: What): string | undefined {
    return this.record(key, o, what)?.value;
  }

  /** Removes the annotations whose request has been handled. Call after the status is written. */
  async removeHandled(key: string, o: CustomObject): Promise<void> {
    for (const what of ["run", "allowDeletes"] as const) {
      const value = o.metadata.annotations?.[ANNOTATION[what]];
      const h = this.record(key, o, what);
      if (value !== undefined && h && h.value === value && !h.cleared) await removeAnnotation(this.host.custom, o, ANNOTATION[what], value);
    }
  }

  forget(key: string): void {
    this.handled.delete(key);
  }

  /** The record of the last handled request: this term's, else the one in status. */
  private record(key: string, o: CustomObject, what: What): Handled | undefined {
    let entry = this.handled.get(key);
    if (!entry) this.handled.set(key, (entry = {}));
    if (!entry[what]) {
      const inStatus = o.status?.[STATUS_FIELD[what]];
      if (typeof inStatus === "string") entry[what] = { value: inStatus, cleared: false };
    }
    return entry[what];
  }

  /** The annotation's value when it is a request not handled yet. */
  private pending(key: string, o: CustomObject, what: What): string | undefined {
    const value = o.metadata.annotations?.[ANNOTATION[what]] || undefined;
    const h = this.record(key, o, what);
    if (h && value !== h.value) h.cleared = true;
    if (value === undefined || (h && h.value === value && !h.cleared)) return undefined;
    return value;
  }

  private setHandled(key: string, what: What, value: string): void {
    const entry = this.handled.get(key) ?? {};
    entry[what] = { value, cleared: false };
    this.handled.set(key, entry);
    this.host.requeue(key);
  }

  /**
   * A request whose run the database failed is handled, like any failed run (the MA's status and an
   * Event say so): asking again at once would only fail again, in a loop, while the database is away.
   */
  private handledIfDatabaseFailed(e: unknown, key: string, what: What, value: string): void {
    if (findDatabaseUnavailable(e)) this.setHandled(key, what, value);
  }

  private handleRun(key: string, o: CustomObject, value: string): void {
    const flight = `${key}#run#${value}`;
    if (!this.host.isApplied(key) || this.inflight.has(flight)) return;
    const profile = value.split("@")[0].trim();
    if (!PROFILES.has(profile)) {
      this.host.events.record(this.host.involved(o), "Warning", "InvalidRunRequest", `${RUN_ANNOTATION}: '${profile}' is not a run profile (${[...PROFILES].join(", ")})`);
      this.setHandled(key, "run", value);
      return;
    }
    this.inflight.add(flight);
    this.host
      .run({ ma: o.metadata.name, profile: profile as RequestedProfile, reason: `annotation ${RUN_ANNOTATION}` })
      .then(() => this.setHandled(key, "run", value))
      .catch((e) => this.handledIfDatabaseFailed(e, key, "run", value))
      .finally(() => {
        this.inflight.delete(flight);
        this.host.requeue(key);
      });
  }

  private handleAllowDeletes(key: string, o: CustomObject, value: string): void {
    const flight = `${key}#allow#${value}`;
    if (!this.host.isApplied(key) || this.inflight.has(flight)) return;
    const involved = this.host.involved(o);
    const allowed = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    const status = this.host.engineStatus(o.metadata.name);
    const blocked = status?.blockedDeletes ?? 0;
    // An import that held its deletes is released by running that import again; else the export.
    const releasing = status?.heldImport ? status.heldImport.profile : "export";
    if (Number.isNaN(allowed)) {
      this.host.events.record(involved, "Warning", "InvalidAllowDeletes", `${ALLOW_DELETES_ANNOTATION}: '${value}' is not a number of deletes`);
    } else if (blocked === 0) {
      this.host.events.record(involved, "Normal", "NothingToRelease", `${ALLOW_DELETES_ANNOTATION}: no export is held by the deletion threshold`);
    } else if (blocked > allowed) {
      this.host.events.record(involved, "Warning", "TooManyDeletes", `${blocked} deletes are held back, more than the ${allowed} allowed by ${ALLOW_DELETES_ANNOTATION}`);
    } else {
      this.inflight.add(flight);
      this.host.events.record(involved, "Normal", "DeletesReleased", `releasing the ${releasing} held by the deletion guard (${blocked} deletes)`);
      this.host
        .run({ ma: o.metadata.name, profile: releasing, reason: `annotation ${ALLOW_DELETES_ANNOTATION}`, allowDeletes: true })
        .then(() => this.setHandled(key, "allowDeletes", value))
        .catch((e) => this.handledIfDatabaseFailed(e, key, "allowDeletes", value))
        .finally(() => {
          this.inflight.delete(flight);
          this.host.requeue(key);
        });
      return;
    }
    this.setHandled(key, "allowDeletes", value);
  }
}

/**
 * Removes one annotation if it still holds `value`: the JSON patch's `test` makes the API server
 * refuse (422) when it was changed or removed meanwhile, which is then not ours to remove.
 */
export async function removeAnnotation(custom: CustomObjectsApi, o: CustomObject, annotation: string, value: string): Promise<void> {
  const t = RESOURCE_TYPES.ManagementAgent;
  const path = `/metadata/annotations/${annotation.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  try {
    await custom.patchNamespacedCustomObject(
      {
        group: t.group,
        version: t.version,
        plural: t.plural,
        namespace: o.metadata.namespace ?? "default",
        name: o.metadata.name,
        body: [
          { op: "test", path, value },
          { op: "remove", path },
        ],
      },
      JSON_PATCH,
    );
  } catch (e) {
    const code = apiErrorCode(e);
    if (code !== 404 && code !== 422) throw e;
  }
}
