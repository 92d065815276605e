// One namespace: its own engine (a PostgreSQL schema or an embedded database of its own, so its own
// metaverse, connector spaces and run locks), its own run queue, schedules, verdicts and applied
// configuration. Nothing here looks outside the namespace: the declared set, MA names, Secrets,
// Events and status are all this namespace's, so a resource in one namespace can neither read,
// change nor remove anything of another's, and names need only be unique within a namespace.
//
// The engine is opened at the first engine call (a namespace that only has an invalid resource
// never opens one) and closed with the tenant: when the namespace has no idsync resource left, or
// when leadership ends.
//
// Reconciles never wait for the engine once the applied configuration is known: an apply or a
// finalizer's clean-up waits behind the namespace's runs in the run queue, not in a reconcile worker
// that every namespace shares; its continuation queues the key again.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { AnyResource, ConfigSet, Kind, ManagementAgent } from "../config/model.ts";
import type { PathPolicy } from "../config/paths.ts";
import type { Engine } from "../engine/index.ts";
import type { ApplyResult, ManagementAgentStatus } from "../engine/types.ts";
import type { EventRecorder, InvolvedObject } from "./events.ts";
import { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "./finalizer.ts";
import type { Gate } from "./gate.ts";
import type { Informer } from "./informer.ts";
import { describeApiError, RESOURCE_TYPES } from "./kube.ts";
import type { Logger } from "./log.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { partitionDeclared, resourceKey, type Verdict } from "./partition.ts";
import type { WorkQueue } from "./queue.ts";
import type { CustomObject } from "./reconciler.ts";
import { OneShotRequests } from "./requests.ts";
import { RunObserver } from "./runobserver.ts";
import { RunQueue, StoppedError, type RequestedProfile } from "./runqueue.ts";
import { Scheduler } from "./schedule.ts";
import { secretRefsOf, type SecretStore } from "./secrets.ts";
import { buildStatus, StatusWriter, type ObservedState, type StatusObject } from "./status.ts";

const KINDS: Kind[] = ["ManagementAgent", "SyncRule", "RetentionPolicy"];

/** The work-queue key of one namespace's declared set. */
export function configKey(namespace: string): string {
  return `@config/${namespace}`;
}

export interface TenantOptions {
  namespace: string;
  /** Opens this namespace's engine. */
  openEngine: () => Promise<Engine>;
  informers: Record<Kind, Informer<CustomObject>>;
  secrets: SecretStore;
  custom: CustomObjectsApi;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  /** The operator's work queue (shared by all namespaces). */
  queue: WorkQueue;
  gate: Gate;
  now?: () => Date;
  /** Where CSV files may lie: checked when the declared set is validated. */
  paths?: PathPolicy;
}

export class Tenant {
  readonly namespace: string;
  readonly configKey: string;
  readonly runs: RunQueue;
  private readonly scheduler: Scheduler;
  private readonly statusWriter: StatusWriter;
  private readonly requests: OneShotRequests;
  private readonly log: Logger;
  private engine: Promise<Engine> | undefined;
  private loaded = false;
  private verdicts = new Map<string, Verdict>();
  private appliedHash: string | undefined;
  private appliedConfig: ConfigSet | undefined;
  private applyError: string | undefined;
  private applying: Promise<void> | undefined;
  private justApplied = false;
  private readonly engineStatus = new Map<string, ManagementAgentStatus>();
  private readonly removing = new Set<string>();
  /** Continuations of engine tasks still in flight (awaited by close()). */
  private readonly background = new Set<Promise<unknown>>();

  constructor(private readonly opts: TenantOptions) {
    this.namespace = opts.namespace;
    this.configKey = configKey(opts.namespace);
    this.log = opts.logger.child({ namespace: opts.namespace });
    this.statusWriter = new StatusWriter(opts.custom);
    const observer = new RunObserver({
      namespace: opts.namespace,
      metrics: opts.metrics,
      events: opts.events,
      logger: this.log,
      involved: (ma) => this.involvedMa(ma),
      managementAgents: () => (this.appliedConfig?.managementAgents ?? []).map((m) => m.metadata.name),
      knownStatus: (ma) => this.engineStatus.get(ma),
      statusChanged: (ma, status) => {
        this.engineStatus.set(ma, status);
        this.enqueueMa(ma);
      },
    });
    this.runs = new RunQueue({
      engine: () => this.openEngine(),
      gate: opts.gate,
      logger: this.log,
      isStaging: (ma) => this.appliedConfig?.managementAgents.find((m) => m.metadata.name === ma)?.spec.stagingMode === true,
      onRunFinished: (result, req, engine) => observer.finished(result, req, engine),
    });
    this.scheduler = new Scheduler((run) => this.requestRun(run.ma, run.profile, run.reason), {
      now: opts.now,
      onError: (ma, entry, e) => this.log.warn("schedule entry ignored", { ma, profile: entry.profile, error: e.message }),
    });
    this.requests = new OneShotRequests({
      custom: opts.custom,
      events: opts.events,
      isApplied: (key) => this.isApplied(key),
      engineStatus: (ma) => this.engineStatus.get(ma),
      run: (req) => this.requestRun(req.ma, req.profile, req.reason, req.allowDeletes),
      requeue: (key) => opts.queue.add(key),
      involved: (o) => this.involvedObject("ManagementAgent", o),
    });
    this.scheduler.start();
  }

  private openEngine(): Promise<Engine> {
    this.engine ??= this.opts.openEngine().then(
      (engine) => {
        this.log.info("engine opened", { database: engine.database.description });
        return engine;
      },
      (e: unknown) => {
        this.engine = undefined; // the next task tries again
        throw e;
      },
    );
    return this.engine;
  }

  /** This namespace's idsync resources in the caches. */
  declared(): CustomObject[] {
    return KINDS.flatMap((k) => this.opts.informers[k].list().filter((o) => (o.metadata.namespace ?? "") === this.namespace));
  }

  private managementAgents(): CustomObject[] {
    return this.opts.informers.ManagementAgent.list().filter((o) => (o.metadata.namespace ?? "") === this.namespace);
  }

  /** Nothing declared, the empty set applied, nothing running: the tenant may be closed. */
  get finished(): boolean {
    return this.appliedHash !== undefined && !this.applying && this.runs.length === 0 && this.removing.size === 0 && this.background.size === 0 && this.declared().length === 0;
  }

  /** Stops scheduling and running (waits for the task in flight), then closes the engine. */
  async close(): Promise<void> {
    this.scheduler.stop();
    await this.runs.stop();
    await Promise.allSettled([...this.background]);
    const engine = await this.engine?.catch(() => undefined);
    this.engine = undefined;
    if (engine) await engine.close().catch((e: unknown) => this.log.warn("closing the engine failed", { error: (e as Error).message }));
  }

  /** Stops taking runs (first step of a shutdown: close() follows). */
  async stopRuns(): Promise<void> {
    this.scheduler.stop();
    await this.runs.stop();
  }

  private track<T>(p: Promise<T>): void {
    const tracked = p.catch(() => undefined).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  // ------------------------------------------------------------------ the declared set

  async reconcileConfig(): Promise<void> {
    if (this.applying) return; // its end queues this key again
    try {
      if (!this.loaded) {
        // What was applied before (by a previous leader, or this replica's previous term): the last
        // known good version of every resource.
        this.appliedConfig = await this.runs.submit("read applied configuration", async (engine) => engine.config());
        this.loaded = true;
      }
    } catch (e) {
      if (e instanceof StoppedError) return;
      throw e;
    }
    const { config, verdicts } = partitionDeclared(this.declared() as unknown as AnyResource[], this.appliedConfig, { paths: this.opts.paths });
    const hash = JSON.stringify(config);
    if (hash !== this.appliedHash) return this.startApply(config, hash, verdicts);
    this.publish(verdicts, this.justApplied);
    this.justApplied = false;
    const deleting = new Set(this.managementAgents().filter(isDeleting).map((o) => o.metadata.name));
    this.scheduler.setSchedules(
      (this.appliedConfig?.managementAgents ?? []).filter((m) => !deleting.has(m.metadata.name)).map((m) => ({ ma: m.metadata.name, entries: m.spec.schedule ?? [] })),
    );
    // Emptied: look again once the last runs are done, to close the engine.
    if (this.declared().length === 0 && !this.finished) this.opts.queue.addAfter(this.configKey, 1000);
  }

  private startApply(config: ConfigSet, hash: string, verdicts: Map<string, Verdict>): void {
    const firstInTerm = this.appliedHash === undefined;
    let failed = false;
    this.applying = this.runs
      .submit("apply", (engine) => engine.apply(config))
      .then(
        (result) => {
          this.appliedHash = hash;
          this.appliedConfig = config;
          this.applyError = undefined;
          this.justApplied = true;
          this.afterApply(result, config, firstInTerm);
        },
        (e: unknown) => {
          if (e instanceof StoppedError) return;
          failed = true;
          this.applyError = `the engine refused the configuration: ${(e as Error).message}`;
          this.log.error("apply failed", { error: (e as Error).message });
          this.opts.metrics.errors.inc({ kind: "reconcile" });
          this.publish(verdicts, true);
        },
      )
      .finally(() => {
        this.applying = undefined;
        if (failed) this.opts.queue.addRateLimited(this.configKey);
        else {
          this.opts.queue.forget(this.configKey);
          this.opts.queue.add(this.configKey);
        }
      });
  }

  /** Takes the verdicts of the set the engine now runs: Events for new problems, status for changes. */
  private publish(verdicts: Map<string, Verdict>, everyone: boolean): void {
    const previous = this.verdicts;
    this.verdicts = verdicts;
    for (const v of verdicts.values()) {
      const before = previous.get(v.key);
      const changed = !before || before.reason !== v.reason || before.message !== v.message || before.generation !== v.generation;
      if (changed && !v.valid) this.opts.events.record(this.involved(v), "Warning", v.reason, v.message);
      if (changed || everyone) this.opts.queue.add(v.key);
    }
  }

  /** The runs a configuration change needs, in order: imports of new MAs, full syncs, exports. */
  private afterApply(result: ApplyResult, config: ConfigSet, firstInTerm: boolean): void {
    for (const c of result.changed) {
      this.log.info("configuration applied", { kind: c.kind, name: c.name, change: c.change });
      if (c.kind === "ManagementAgent" && c.change === "removed" && !this.opts.informers.ManagementAgent.get(this.namespace, c.name)) {
        // Normally the finalizer already cleaned up; this covers an MA deleted without it. (An MA
        // merely left out — invalid, never applied before — keeps its connector space.)
        this.runs.submit("remove", (engine) => engine.removeManagementAgent(c.name), c.name).catch(() => undefined);
        this.forgetMa(c.name);
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
    this.track(
      plan().catch((e: unknown) => {
        if (!(e instanceof StoppedError)) this.log.warn("planning runs after apply failed", { error: (e as Error).message });
      }),
    );
  }

  /** Whether the engine runs some generation of the resource (the current one, or the last good one). */
  private isApplied(key: string): boolean {
    const v = this.verdicts.get(key);
    return this.appliedHash !== undefined && !!v && (v.valid || v.appliedGeneration !== undefined);
  }

  // ------------------------------------------------------------------ one ManagementAgent

  async reconcileManagementAgent(key: string, object: CustomObject): Promise<void> {
    if (isDeleting(object)) return this.finalize(key, object);
    if (!hasFinalizer(object)) await addFinalizer(this.opts.custom, RESOURCE_TYPES.ManagementAgent, object); // the update event re-queues
    this.requests.handle(key, object);
    await this.writeStatus("ManagementAgent", object);
    // After the status holds the record: a leader that dies in between must not run it twice.
    await this.requests.removeHandled(key, object);
  }

  /** The finalizer: disconnect the MA's connectors per the rules and clear its connector space, then let go. */
  private async finalize(key: string, object: CustomObject): Promise<void> {
    const name = object.metadata.name;
    if (!hasFinalizer(object) || this.removing.has(name)) return;
    this.removing.add(name);
    this.runs.cancel(name);
    await this.writeStatus("ManagementAgent", object).catch(() => undefined);
    const done = this.runs
      .submit("remove", (engine) => engine.removeManagementAgent(name), name)
      .then(async () => {
        this.forgetMa(name);
        this.requests.forget(key);
        this.opts.events.record(this.involvedObject("ManagementAgent", object), "Normal", "CleanedUp", "connectors disconnected per the sync rules and connector space cleared");
        await removeFinalizer(this.opts.custom, RESOURCE_TYPES.ManagementAgent, object);
        this.log.info("management agent removed", { ma: name });
      })
      .catch((e: unknown) => {
        if (e instanceof StoppedError) return;
        this.opts.metrics.errors.inc({ kind: "reconcile" });
        this.log.warn("clean-up of a deleted management agent failed; retrying", { ma: name, error: describeApiError(e) });
        this.opts.queue.addRateLimited(key);
      })
      .finally(() => this.removing.delete(name));
    this.track(done);
  }

  private forgetMa(ma: string): void {
    this.engineStatus.delete(ma);
    this.opts.metrics.pendingExports.remove({ namespace: this.namespace, ma });
  }

  // ------------------------------------------------------------------ runs and status

  private requestRun(ma: string, profile: RequestedProfile, reason: string, allowDeletes?: boolean): Promise<unknown> {
    const p = this.runs.requestRun({ ma, profile, reason, allowDeletes });
    this.enqueueMa(ma);
    return p;
  }

  private enqueueMa(ma: string): void {
    if (this.opts.informers.ManagementAgent.get(this.namespace, ma)) this.opts.queue.add(resourceKey("ManagementAgent", this.namespace, ma));
  }

  async writeStatus(kind: Kind, object: CustomObject): Promise<void> {
    await this.statusWriter.write(RESOURCE_TYPES[kind], object as StatusObject, (fresh) => buildStatus(fresh, this.observe(kind, fresh as CustomObject), this.opts.now?.() ?? new Date()));
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
    const problems = secretRefsOf(o as unknown as ManagementAgent).map((r) => this.opts.secrets.problem(this.namespace, r));
    return {
      ...state,
      engine: this.engineStatus.get(name),
      activity: activity.running ?? activity.queued[0],
      secretProblem: problems.find((p) => p !== undefined),
      lastHandledRunRequest: this.requests.lastHandled(key, o, "run"),
      lastHandledAllowDeletes: this.requests.lastHandled(key, o, "allowDeletes"),
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
    const o = this.opts.informers.ManagementAgent.get(this.namespace, ma);
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
