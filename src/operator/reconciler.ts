// The reconciler: level-based. Informer events only enqueue keys; a worker re-reads the latest state
// from the informer caches and acts on that, so a missed, duplicated or reordered event changes
// nothing. Two kinds of keys:
//   "@config"           the whole declared set: validate it, apply the valid part to the engine when it
//                       changed, start the runs the change needs, re-schedule;
//   "Kind/ns/name"      one resource: finalizer, run/allow-deletes annotations, status.
// Every engine call goes through the RunQueue (one at a time); reconciles never wait for a run
// except `apply` and the finalizer's clean-up, which must be ordered with the runs anyway.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { AnyResource, ConfigSet, Kind, ManagementAgent } from "../config/model.ts";
import type { Engine } from "../engine/index.ts";
import type { ApplyResult, ManagementAgentStatus } from "../engine/types.ts";
import type { EventRecorder, InvolvedObject } from "./events.ts";
import { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "./finalizer.ts";
import type { Informer, InformerEvent, KubeObject } from "./informer.ts";
import { apiErrorCode, describeApiError, RESOURCE_TYPES } from "./kube.ts";
import type { Logger } from "./log.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { partitionDeclared, resourceKey, type Verdict } from "./partition.ts";
import { findDatabaseUnavailable } from "../store/pgconfig.ts";
import { RunObserver } from "./runobserver.ts";
import { RunQueue, StoppedError, type RequestedProfile } from "./runqueue.ts";
import { Scheduler } from "./schedule.ts";
import { secretRefsOf, type SecretObject, type SecretStore } from "./secrets.ts";
import { buildStatus, StatusWriter, type ObservedState, type StatusObject } from "./status.ts";
import { runWorkers, WorkQueue, type RateLimiterOptions } from "./queue.ts";

export const CONFIG_KEY = "@config";
export const RUN_ANNOTATION = "idsync.dev/run";
export const ALLOW_DELETES_ANNOTATION = "idsync.dev/allow-deletes";
const KINDS: Kind[] = ["ManagementAgent", "SyncRule", "RetentionPolicy"];
const PROFILES = new Set<string>(["full-import", "delta-import", "full-sync", "delta-sync", "export", "cycle"]);

export interface CustomObject extends KubeObject {
  metadata: KubeObject["metadata"] & {
    generation?: number;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: unknown;
  status?: Record<string, unknown>;
}

export interface ReconcilerOptions {
  engine: Engine;
  informers: Record<Kind, Informer<CustomObject>>;
  secrets: SecretStore;
  custom: CustomObjectsApi;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  /** Concurrent reconcile workers (default 2: one may wait for `apply` behind a long run). */
  workers?: number;
  rateLimit?: RateLimiterOptions;
  now?: () => Date;
}

export class Reconciler {
  readonly queue: WorkQueue;
  readonly runs: RunQueue;
  private readonly scheduler: Scheduler;
  private readonly statusWriter: StatusWriter;
  private readonly observer: RunObserver;
  private verdicts = new Map<string, Verdict>();
  private appliedHash: string | undefined;
  private appliedConfig: ConfigSet | undefined;
  private applyError: string | undefined;
  private readonly engineStatus = new Map<string, ManagementAgentStatus>();
  private readonly handled = new Map<string, { run?: string; allowDeletes?: string }>();
  private readonly inflight = new Set<string>();
  private workers: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: ReconcilerOptions) {
    this.log = opts.logger;
    this.queue = new WorkQueue({ ...opts.rateLimit, onDepth: (d) => opts.metrics.workqueueDepth.set(d) });
    this.statusWriter = new StatusWriter(opts.custom);
    this.observer = new RunObserver({
      metrics: opts.metrics,
      events: opts.events,
      logger: opts.logger,
      involved: (ma) => this.involvedMa(ma),
      managementAgents: () => (this.appliedConfig?.managementAgents ?? []).map((m) => m.metadata.name),
      knownStatus: (ma) => this.engineStatus.get(ma),
      statusChanged: (ma, status) => {
        this.engineStatus.set(ma, status);
        this.enqueueMa(ma);
      },
    });
    this.runs = new RunQueue({
      engine: opts.engine,
      logger: opts.logger,
      isStaging: (ma) => this.appliedConfig?.managementAgents.find((m) => m.metadata.name === ma)?.spec.stagingMode === true,
      onRunFinished: (result, req, engine) => this.observer.finished(result, req, engine),
    });
    this.scheduler = new Scheduler((run) => this.requestRun(run.ma, run.profile, run.reason), {
      now: opts.now,
      onError: (ma, entry, e) => this.log.warn("schedule entry ignored", { ma, profile: entry.profile, error: e.message }),
    });
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** Begins reconciling everything in the caches. */
  start(): void {
    this.queue.add(CONFIG_KEY);
    for (const kind of KINDS) for (const o of this.opts.informers[kind].list()) this.queue.add(resourceKey(kind, o.metadata.namespace, o.metadata.name));
    this.scheduler.start();
    this.workers = runWorkers(this.queue, this.opts.workers ?? 2, (key) => this.reconcile(key), (key, e, retryInMs) => {
      this.opts.metrics.errors.inc({ kind: apiErrorCode(e) !== undefined ? "api" : "reconcile" });
      this.log.warn("reconcile failed; retrying", { key, error: describeApiError(e), retryInMs });
    });
  }

  /** Stops taking work and waits for the work in flight (the engine task and the reconciles). */
  async stop(): Promise<void> {
    this.scheduler.stop();
    this.queue.shutdown();
    await this.runs.stop();
    await this.queue.drain();
    await this.workers;
    await this.opts.events.flush();
  }

  onEvent(kind: Kind, e: InformerEvent<CustomObject>): void {
    const o = e.object;
    // Spec, existence and deletion matter to the whole set; annotations, finalizers and our own
    // status writes only to the object itself.
    const wholeSet =
      e.type !== "update" ||
      e.old.metadata.generation !== o.metadata.generation ||
      !!e.old.metadata.deletionTimestamp !== !!o.metadata.deletionTimestamp;
    if (wholeSet) this.queue.add(CONFIG_KEY);
    this.queue.add(resourceKey(kind, o.metadata.namespace, o.metadata.name));
  }

  onSecretEvent(e: InformerEvent<SecretObject>): void {
    const { namespace, name } = e.object.metadata;
    for (const ma of this.opts.informers.ManagementAgent.list()) {
      if (ma.metadata.namespace === namespace && secretRefsOf(ma as unknown as ManagementAgent).some((r) => r.name === name)) {
        this.queue.add(resourceKey("ManagementAgent", namespace, ma.metadata.name));
      }
    }
  }

  private async reconcile(key: string): Promise<void> {
    if (key === CONFIG_KEY) return this.reconcileConfig();
    const [kind, namespace, ...rest] = key.split("/");
    const name = rest.join("/");
    const object = this.opts.informers[kind as Kind]?.get(namespace || undefined, name);
    if (!object) return;
    if (kind === "ManagementAgent") return this.reconcileManagementAgent(key, object);
    await this.writeStatus(kind as Kind, object);
  }

  // ------------------------------------------------------------------ the declared set

  private async reconcileConfig(): Promise<void> {
    const declared = KINDS.flatMap((k) => this.opts.informers[k].list()) as unknown as AnyResource[];
    // What the engine runs now: a resource whose new spec is invalid keeps its applied version.
    const { config, verdicts } = partitionDeclared(declared, this.opts.engine.config());
    const hash = JSON.stringify(config);
    const previous = this.verdicts;
    let failure: unknown;
    let appliedNow = false;
    if (hash !== this.appliedHash) {
      const first = this.appliedHash === undefined;
      try {
        const result = await this.runs.submit("apply", (engine) => engine.apply(config));
        this.appliedHash = hash;
        this.appliedConfig = config;
        this.applyError = undefined;
        appliedNow = true;
        this.afterApply(result, config, first);
      } catch (e) {
        if (e instanceof StoppedError) return;
        failure = e;
        this.applyError = `the engine refused the configuration: ${(e as Error).message}`;
        this.log.error("apply failed", { error: (e as Error).message });
      }
    }
    this.verdicts = verdicts;
    for (const v of verdicts.values()) {
      const before = previous.get(v.key);
      const changed = !before || before.reason !== v.reason || before.message !== v.message || before.generation !== v.generation;
      if (changed && !v.valid) this.opts.events.record(this.involved(v), "Warning", v.reason, v.message);
      if (changed || appliedNow || failure) this.queue.add(v.key);
    }
    const deleting = new Set(this.opts.informers.ManagementAgent.list().filter(isDeleting).map((o) => o.metadata.name));
    this.scheduler.setSchedules(
      (this.appliedConfig?.managementAgents ?? [])
        .filter((m) => !deleting.has(m.metadata.name))
        .map((m) => ({ ma: m.metadata.name, entries: m.spec.schedule ?? [] })),
    );
    if (failure) throw failure;
  }

  /** The runs a configuration change needs, in order: imports of new MAs, full syncs, exports. */
  private afterApply(result: ApplyResult, config: ConfigSet, firstInTerm: boolean): void {
    for (const c of result.changed) {
      this.log.info("configuration applied", { kind: c.kind, name: c.name, change: c.change });
      const gone = !this.opts.informers.ManagementAgent.list().some((o) => o.metadata.name === c.name);
      if (c.kind === "ManagementAgent" && c.change === "removed" && gone) {
        // Normally the finalizer already cleaned up; this covers an MA deleted without it. (An MA
        // merely left out — invalid, never applied before — keeps its connector space.)
        this.runs.submit("remove", (engine) => engine.removeManagementAgent(c.name), c.name).catch(() => undefined);
        this.engineStatus.delete(c.name);
        this.opts.metrics.pendingExports.remove({ ma: c.name });
      }
    }
    const names = config.managementAgents.map((m) => m.metadata.name);
    const added = result.changed.filter((c) => c.kind === "ManagementAgent" && c.change === "added").map((c) => c.name);
    const projecting = new Set(config.syncRules.filter((r) => r.spec.direction === "inbound" && r.spec.projection).map((r) => r.spec.managementAgent));
    const byProjectionFirst = (a: string, b: string) => Number(projecting.has(b)) - Number(projecting.has(a)) || a.localeCompare(b);
    const fullSyncs = new Set(result.needsFullSync);
    const plan = async () => {
      // A leader that died between apply and full sync left requests behind: honour them now.
      if (firstInTerm) for (const ma of await this.runs.submit("pending full syncs", pendingFullSyncs)) if (names.includes(ma)) fullSyncs.add(ma);
      for (const ma of added.sort(byProjectionFirst)) this.requestRun(ma, "full-import", "new management agent");
      for (const ma of [...fullSyncs].sort(byProjectionFirst)) this.requestRun(ma, "full-sync", "configuration changed");
      if (firstInTerm || result.changed.length > 0) for (const ma of names) this.requestRun(ma, "export-if-pending", "configuration changed");
      // Status for every MA, known before the first run of the term finishes.
      await this.runs.submit("status", async (engine) => {
        for (const ma of names) this.engineStatus.set(ma, await engine.status(ma));
      });
      for (const ma of names) this.enqueueMa(ma);
    };
    plan().catch((e) => {
      if (!(e instanceof StoppedError)) this.log.warn("planning runs after apply failed", { error: (e as Error).message });
    });
  }

  // ------------------------------------------------------------------ one ManagementAgent

  private async reconcileManagementAgent(key: string, object: CustomObject): Promise<void> {
    const type = RESOURCE_TYPES.ManagementAgent;
    const name = object.metadata.name;
    if (isDeleting(object)) {
      if (!hasFinalizer(object)) return;
      this.runs.cancel(name);
      await this.writeStatus("ManagementAgent", object).catch(() => undefined);
      await this.runs.submit("remove", (engine) => engine.removeManagementAgent(name), name);
      this.engineStatus.delete(name);
      this.opts.metrics.pendingExports.remove({ ma: name });
      this.opts.events.record(this.involvedObject("ManagementAgent", object), "Normal", "CleanedUp", "connectors disconnected per the sync rules and connector space cleared");
      await removeFinalizer(this.opts.custom, type, object);
      this.log.info("management agent removed", { ma: name });
      return;
    }
    if (!hasFinalizer(object)) await addFinalizer(this.opts.custom, type, object); // the update event re-queues
    this.handleRunRequest(key, object);
    this.handleAllowDeletes(key, object);
    await this.writeStatus("ManagementAgent", object);
  }

  /** idsync.dev/run: <profile>[@token] runs once per distinct value (status.lastHandledRunRequest). */
  private handleRunRequest(key: string, o: CustomObject): void {
    const value = o.metadata.annotations?.[RUN_ANNOTATION];
    if (!value || value === this.lastHandled(key, o, "run")) return;
    if (!this.isApplied(key) || this.inflight.has(`${key}#run#${value}`)) return;
    const profile = value.split("@")[0].trim();
    if (!PROFILES.has(profile)) {
      this.opts.events.record(this.involvedObject("ManagementAgent", o), "Warning", "InvalidRunRequest", `${RUN_ANNOTATION}: '${profile}' is not a run profile (${[...PROFILES].join(", ")})`);
      this.setHandled(key, "run", value);
      return;
    }
    const flight = `${key}#run#${value}`;
    this.inflight.add(flight);
    this.requestRun(o.metadata.name, profile as RequestedProfile, `annotation ${RUN_ANNOTATION}`)
      .then(() => this.setHandled(key, "run", value))
      .catch((e) => this.handledIfDatabaseFailed(e, key, "run", value))
      .finally(() => {
        this.inflight.delete(flight);
        this.queue.add(key);
      });
  }

  /**
   * idsync.dev/allow-deletes: "<n>" releases, once, what the deletion guard holds if it is at most n
   * deletes: an import's (threshold or source empty), by running that import again, or an export's.
   */
  private handleAllowDeletes(key: string, o: CustomObject): void {
    const value = o.metadata.annotations?.[ALLOW_DELETES_ANNOTATION];
    if (!value || value === this.lastHandled(key, o, "allowDeletes")) return;
    const flight = `${key}#allow#${value}`;
    if (!this.isApplied(key) || this.inflight.has(flight)) return;
    const involved = this.involvedObject("ManagementAgent", o);
    const allowed = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    const status = this.engineStatus.get(o.metadata.name);
    const blocked = status?.blockedDeletes ?? 0;
    // An import that held its deletes is released by running that import again; else the export.
    const releasing = status?.heldImport ? status.heldImport.profile : "export";
    if (Number.isNaN(allowed)) {
      this.opts.events.record(involved, "Warning", "InvalidAllowDeletes", `${ALLOW_DELETES_ANNOTATION}: '${value}' is not a number of deletes`);
    } else if (blocked === 0) {
      this.opts.events.record(involved, "Normal", "NothingToRelease", `${ALLOW_DELETES_ANNOTATION}: no export is held by the deletion threshold`);
    } else if (blocked > allowed) {
      this.opts.events.record(involved, "Warning", "TooManyDeletes", `${blocked} deletes are held back, more than the ${allowed} allowed by ${ALLOW_DELETES_ANNOTATION}`);
    } else {
      this.inflight.add(flight);
      this.opts.events.record(involved, "Normal", "DeletesReleased", `releasing the ${releasing} held by the deletion guard (${blocked} deletes)`);
      this.runs
        .requestRun({ ma: o.metadata.name, profile: releasing, reason: `annotation ${ALLOW_DELETES_ANNOTATION}`, allowDeletes: true })
        .then(() => this.setHandled(key, "allowDeletes", value))
        .catch((e) => this.handledIfDatabaseFailed(e, key, "allowDeletes", value))
        .finally(() => {
          this.inflight.delete(flight);
          this.queue.add(key);
        });
      return;
    }
    this.setHandled(key, "allowDeletes", value);
  }

  /** Whether the engine runs some generation of the resource (the current one, or the last good one). */
  private isApplied(key: string): boolean {
    const v = this.verdicts.get(key);
    return this.appliedHash !== undefined && !!v && (v.valid || v.appliedGeneration !== undefined);
  }

  private lastHandled(key: string, o: CustomObject, what: "run" | "allowDeletes"): string | undefined {
    const field = what === "run" ? "lastHandledRunRequest" : "lastHandledAllowDeletes";
    return this.handled.get(key)?.[what] ?? (o.status?.[field] as string | undefined);
  }

  /**
   * A request whose run the database failed is handled, like any failed run (the MA's status and an
   * Event say so): asking again at once would only fail again, in a loop, while the database is away.
   */
  private handledIfDatabaseFailed(e: unknown, key: string, what: "run" | "allowDeletes", value: string): void {
    if (findDatabaseUnavailable(e)) this.setHandled(key, what, value);
  }

  private setHandled(key: string, what: "run" | "allowDeletes", value: string): void {
    this.handled.set(key, { ...this.handled.get(key), [what]: value });
    this.queue.add(key);
  }

  // ------------------------------------------------------------------ runs and status

  private requestRun(ma: string, profile: RequestedProfile, reason: string): Promise<unknown> {
    const p = this.runs.requestRun({ ma, profile, reason });
    this.enqueueMa(ma);
    return p;
  }

  private enqueueMa(ma: string): void {
    const o = this.opts.informers.ManagementAgent.list().find((x) => x.metadata.name === ma);
    if (o) this.queue.add(resourceKey("ManagementAgent", o.metadata.namespace, ma));
  }

  private async writeStatus(kind: Kind, object: CustomObject): Promise<void> {
    await this.statusWriter.write(RESOURCE_TYPES[kind], object as StatusObject, (fresh) => buildStatus(fresh, this.observe(kind, fresh as CustomObject), this.now()));
  }

  private observe(kind: Kind, o: CustomObject): ObservedState {
    const key = resourceKey(kind, o.metadata.namespace, o.metadata.name);
    const verdict = this.verdicts.get(key);
    const state: ObservedState = {
      kind,
      generation: o.metadata.generation,
      verdict,
      applied: !!verdict?.valid && this.appliedHash !== undefined,
      applyError: this.applyError,
      deleting: isDeleting(o),
    };
    if (kind !== "ManagementAgent") return state;
    const name = o.metadata.name;
    const activity = this.runs.activity(name);
    const problems = secretRefsOf(o as unknown as ManagementAgent).map((r) => this.opts.secrets.problem(o.metadata.namespace, r));
    return {
      ...state,
      engine: this.engineStatus.get(name),
      activity: activity.running ?? activity.queued[0],
      secretProblem: problems.find((p) => p !== undefined),
      lastHandledRunRequest: this.lastHandled(key, o, "run"),
      lastHandledAllowDeletes: this.lastHandled(key, o, "allowDeletes"),
    };
  }

  private involvedObject(kind: Kind, o: CustomObject): InvolvedObject {
    return { apiVersion: o.apiVersion ?? "idsync.dev/v1alpha1", kind, namespace: o.metadata.namespace, name: o.metadata.name, uid: o.metadata.uid };
  }

  private involved(v: Verdict): InvolvedObject {
    const o = this.opts.informers[v.kind].get(v.namespace, v.name);
    return o ? this.involvedObject(v.kind, o) : { apiVersion: "idsync.dev/v1alpha1", kind: v.kind, namespace: v.namespace, name: v.name };
  }

  private involvedMa(ma: string): InvolvedObject | undefined {
    const o = this.opts.informers.ManagementAgent.list().find((x) => x.metadata.name === ma);
    return o ? this.involvedObject("ManagementAgent", o) : undefined;
  }
}

/**
 * MAs whose full sync was requested by an apply but has not run (a previous leader died in between).
 * The engine has no call for this yet, so the store's table is read directly; any failure means none.
 */
async function pendingFullSyncs(engine: Engine): Promise<string[]> {
  try {
    return (await engine.database.query<{ ma: string }>(`select ma from full_sync_request order by ma`)).rows.map((r) => r.ma);
  } catch {
    return [];
  }
}
