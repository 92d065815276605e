// The reconciler: level-based. Informer events only enqueue keys; a worker re-reads the latest state
// from the informer caches and acts on that, so a missed, duplicated or reordered event changes
// nothing. Two kinds of keys:
//   "@config/<namespace>"  one namespace's declared set: validate it, apply the valid part to that
//                          namespace's engine when it changed, start the runs the change needs,
//                          re-schedule;
//   "Kind/ns/name"         one resource: finalizer, run/allow-deletes annotations, status.
// Every namespace is a Tenant (tenant.ts) with an engine, a run queue and schedules of its own; the
// reconciler only routes keys to them, creates a tenant when a namespace gets its first resource and
// closes it when the namespace has none left. The work queue and its workers are shared: a reconcile
// never waits for a run (applies and clean-ups continue in the tenant's run queue), so one busy
// namespace cannot hold up another's reconciles.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { Kind, ManagementAgent } from "../config/model.ts";
import type { PathPolicy } from "../config/paths.ts";
import type { Engine } from "../engine/index.ts";
import type { EventRecorder } from "./events.ts";
import { Gate } from "./gate.ts";
import type { Informer, InformerEvent, KubeObject } from "./informer.ts";
import { apiErrorCode, describeApiError } from "./kube.ts";
import type { Logger } from "./log.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { resourceKey } from "./partition.ts";
import { runWorkers, WorkQueue, type RateLimiterOptions } from "./queue.ts";
import { secretRefsOf, type SecretObject, type SecretStore } from "./secrets.ts";
import { configKey, Tenant } from "./tenant.ts";

export { ALLOW_DELETES_ANNOTATION, RUN_ANNOTATION } from "./requests.ts";

const KINDS: Kind[] = ["ManagementAgent", "SyncRule", "RetentionPolicy"];
const CONFIG_PREFIX = configKey("");

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
  /** Opens one namespace's engine: its own schema, or its own embedded database. */
  engineFor: (namespace: string) => Promise<Engine>;
  informers: Record<Kind, Informer<CustomObject>>;
  secrets: SecretStore;
  custom: CustomObjectsApi;
  events: EventRecorder;
  metrics: OperatorMetrics;
  logger: Logger;
  /** Concurrent reconcile workers (default 2). */
  workers?: number;
  /** Runs executing at once, across all namespaces (default 2: see gate.ts). */
  parallelRuns?: number;
  rateLimit?: RateLimiterOptions;
  now?: () => Date;
  /** Where CSV files may lie (the operator's CSV roots): checked when the declared set is validated. */
  paths?: PathPolicy;
}

export class Reconciler {
  readonly queue: WorkQueue;
  private readonly tenants = new Map<string, Tenant>();
  private readonly gate: Gate;
  private workers: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: ReconcilerOptions) {
    this.log = opts.logger;
    this.queue = new WorkQueue({ ...opts.rateLimit, onDepth: (d) => opts.metrics.workqueueDepth.set(d) });
    this.gate = new Gate(opts.parallelRuns ?? 2);
  }

  /** Begins reconciling everything in the caches. */
  start(): void {
    const namespaces = new Set<string>();
    for (const kind of KINDS) {
      for (const o of this.opts.informers[kind].list()) {
        namespaces.add(o.metadata.namespace ?? "");
        this.queue.add(resourceKey(kind, o.metadata.namespace, o.metadata.name));
      }
    }
    for (const ns of namespaces) this.queue.add(configKey(ns));
    this.workers = runWorkers(this.queue, this.opts.workers ?? 2, (key) => this.reconcile(key), (key, e, retryInMs) => {
      this.opts.metrics.errors.inc({ kind: apiErrorCode(e) !== undefined ? "api" : "reconcile" });
      this.log.warn("reconcile failed; retrying", { key, error: describeApiError(e), retryInMs });
    });
  }

  /** Stops taking work, waits for the work in flight (engine tasks and reconciles), closes the engines. */
  async stop(): Promise<void> {
    this.queue.shutdown();
    const tenants = [...this.tenants.values()];
    await Promise.all(tenants.map((t) => t.stopRuns()));
    await this.queue.drain();
    await this.workers;
    await this.opts.events.flush();
    await Promise.all(tenants.map((t) => t.close()));
    this.tenants.clear();
  }

  onEvent(kind: Kind, e: InformerEvent<CustomObject>): void {
    const o = e.object;
    // Spec, existence and deletion matter to the namespace's whole set; annotations, finalizers and
    // our own status writes only to the object itself.
    const wholeSet =
      e.type !== "update" ||
      e.old.metadata.generation !== o.metadata.generation ||
      !!e.old.metadata.deletionTimestamp !== !!o.metadata.deletionTimestamp;
    if (wholeSet) this.queue.add(configKey(o.metadata.namespace ?? ""));
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

  /** The namespaces with a tenant now (tests, logs). */
  namespaces(): string[] {
    return [...this.tenants.keys()].sort();
  }

  private tenant(namespace: string): Tenant {
    let t = this.tenants.get(namespace);
    if (!t) {
      t = new Tenant({
        namespace,
        openEngine: () => this.opts.engineFor(namespace),
        informers: this.opts.informers,
        secrets: this.opts.secrets,
        custom: this.opts.custom,
        events: this.opts.events,
        metrics: this.opts.metrics,
        logger: this.log,
        queue: this.queue,
        gate: this.gate,
        now: this.opts.now,
        paths: this.opts.paths,
      });
      this.tenants.set(namespace, t);
    }
    return t;
  }

  private async reconcile(key: string): Promise<void> {
    if (key.startsWith(CONFIG_PREFIX)) return this.reconcileNamespace(key.slice(CONFIG_PREFIX.length));
    const [kind, namespace, ...rest] = key.split("/");
    const name = rest.join("/");
    const object = this.opts.informers[kind as Kind]?.get(namespace || undefined, name);
    if (!object) return;
    const tenant = this.tenant(namespace);
    if (kind === "ManagementAgent") return tenant.reconcileManagementAgent(key, object);
    await tenant.writeStatus(kind as Kind, object);
  }

  private async reconcileNamespace(namespace: string): Promise<void> {
    const declared = KINDS.some((k) => this.opts.informers[k].list().some((o) => (o.metadata.namespace ?? "") === namespace));
    if (!declared && !this.tenants.has(namespace)) return; // nothing here: no engine to open
    const tenant = this.tenant(namespace);
    await tenant.reconcileConfig();
    if (tenant.finished) {
      // The namespace's last resource is gone and applied as gone: close its engine.
      this.tenants.delete(namespace);
      await tenant.close();
      this.log.info("namespace has no idsync resources left: engine closed", { namespace });
    }
  }
}
