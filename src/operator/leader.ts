// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
//  - a candidate takes the lease when it is free (no holder) or expired; expiry is judged by the
//    candidate's OWN clock from when it last saw the lease record change (observedTime), never by
//    comparing the holder's renewTime with the local clock — replicas' clocks may disagree;
//  - the leader renews every retryPeriod; if it cannot renew for renewDeadline it stops leading
//    (renewDeadline < leaseDuration, so it stops before anyone else may take over);
//  - every write carries the resourceVersion it read, so two candidates cannot both win (409);
//  - release on shutdown: holderIdentity cleared, so a successor need not wait for expiry.
import type { CoordinationV1Api, V1Lease } from "@kubernetes/client-node";
import { apiErrorCode, describeApiError, microTime } from "./kube.ts";
import { silentLogger, type Logger } from "./log.ts";

export interface LeaderElectionTiming {
  /** How long a lease is valid after its last renewal (client-go default 15 s). */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leading (default 10 s). */
  renewDeadlineMs: number;
  /** How often candidates try to acquire and the leader renews (default 2 s). */
  retryPeriodMs: number;
}

export const DEFAULT_TIMING: LeaderElectionTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export interface LeaderElectorOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  timing?: Partial<LeaderElectionTiming>;
  logger?: Logger;
  /** Leadership begins: start the work. */
  onStartedLeading: () => void | Promise<void>;
  /** Leadership ends (lost or shutting down): stop the work; awaited before the lease is released. */
  onStoppedLeading: () => void | Promise<void>;
  /** Someone (possibly this replica) is seen holding the lease. */
  onNewLeader?: (identity: string) => void;
}

interface LeaseSpecRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
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

/** Rejects after ms: a hung request must not make a leader believe it still leads. */
function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(t));
}

export class LeaderElector {
  private readonly timing: LeaderElectionTiming;
  private readonly log: Logger;
  private observed: { record: string; at: number } | undefined;
  private leading = false;
  private lastHolder: string | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    if (this.timing.renewDeadlineMs >= this.timing.leaseDurationMs) throw new Error("leader election: renewDeadline must be shorter than leaseDuration");
    if (this.timing.retryPeriodMs >= this.timing.renewDeadlineMs) throw new Error("leader election: retryPeriod must be shorter than renewDeadline");
    this.log = (opts.logger ?? silentLogger).child({ lease: `${opts.namespace}/${opts.name}` });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, leads, campaigns again after losing the lease; until `signal` aborts, then releases. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Candidate: try every retryPeriod, jittered so replicas do not collide in lockstep.
      while (!signal.aborted && !(await this.tryAcquireOrRenew())) {
        await sleep(this.timing.retryPeriodMs * (1 + Math.random() * 0.2), signal);
      }
      if (signal.aborted) break;
      this.leading = true;
      this.log.info("became leader", { identity: this.opts.identity });
      try {
        await this.opts.onStartedLeading();
      } catch (e) {
        // A leader that cannot work (its database is down, say) must not sit on the lease.
        this.log.error("starting work as leader failed: stepping down", { error: (e as Error).message });
        this.leading = false;
        await this.stopLeading();
        await this.release();
        await sleep(this.timing.leaseDurationMs, signal);
        continue;
      }
      await this.renewUntilLost(signal);
      this.leading = false;
      await this.stopLeading();
      if (signal.aborted) {
        await this.release();
        return;
      }
      this.log.warn("lost the leader lease: stopped working, campaigning again", { identity: this.opts.identity });
    }
  }

  private async stopLeading(): Promise<void> {
    try {
      await this.opts.onStoppedLeading();
    } catch (e) {
      this.log.error("stopping work failed", { error: (e as Error).message });
    }
  }

  /** Renews every retryPeriod; returns when a renewal has not succeeded for renewDeadline, or on abort. */
  private async renewUntilLost(signal: AbortSignal): Promise<void> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.timing.retryPeriodMs, signal);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
        continue;
      }
      if (Date.now() - lastRenew >= this.timing.renewDeadlineMs) return;
    }
  }

  /** One attempt; true when this replica holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.opts;
    const deadline = Math.max(100, this.timing.renewDeadlineMs - this.timing.retryPeriodMs);
    const now = new Date();
    const durationSeconds = Math.max(1, Math.ceil(this.timing.leaseDurationMs / 1000));
    try {
      let lease: V1Lease | undefined;
      try {
        lease = await withDeadline(api.readNamespacedLease({ name, namespace }), deadline, "reading the lease");
      } catch (e) {
        if (apiErrorCode(e) !== 404) throw e;
      }
      if (!lease) {
        const spec: LeaseSpecRecord = {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        };
        await withDeadline(
          api.createNamespacedLease({ namespace, body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec } as V1Lease }),
          deadline,
          "creating the lease",
        );
        this.observe(spec);
        return true;
      }
      const record = (lease.spec ?? {}) as LeaseSpecRecord;
      this.observe(record);
      const holder = record.holderIdentity || "";
      if (holder && holder !== identity) {
        const validFor = (record.leaseDurationSeconds ?? durationSeconds) * 1000;
        if (this.observed!.at + validFor > Date.now()) return false; // held, and not expired by our clock
        this.log.info("taking over an expired lease", { previousHolder: holder });
      }
      const spec: LeaseSpecRecord = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: holder === identity ? record.acquireTime ?? microTime(now) : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: holder === identity ? record.leaseTransitions ?? 0 : (record.leaseTransitions ?? 0) + 1,
      };
      await withDeadline(
        api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: spec as V1Lease["spec"] } }),
        deadline,
        "renewing the lease",
      );
      this.observe(spec);
      return true;
    } catch (e) {
      const code = apiErrorCode(e);
      // 409: someone else wrote the lease between our read and write; they won this round.
      if (code !== 409) this.log.warn("leader election attempt failed", { error: describeApiError(e) });
      return false;
    }
  }

  private observe(record: LeaseSpecRecord): void {
    const text = JSON.stringify([record.holderIdentity ?? "", record.renewTime ?? "", record.leaseTransitions ?? 0]);
    if (this.observed?.record !== text) this.observed = { record: text, at: Date.now() };
    const holder = record.holderIdentity ?? "";
    if (holder && holder !== this.lastHolder) {
      this.lastHolder = holder;
      this.opts.onNewLeader?.(holder);
    }
  }

  /** Gives the lease up (if still ours) so a successor need not wait for it to expire. */
  async release(): Promise<void> {
    const { api, namespace, name, identity } = this.opts;
    try {
      const lease = await withDeadline(api.readNamespacedLease({ name, namespace }), this.timing.renewDeadlineMs, "reading the lease");
      const record = (lease.spec ?? {}) as LeaseSpecRecord;
      if (record.holderIdentity !== identity) return;
      const now = microTime(new Date());
      const spec: LeaseSpecRecord = { ...record, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
      await withDeadline(api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec: spec as V1Lease["spec"] } }), this.timing.renewDeadlineMs, "releasing the lease");
      this.log.info("released the leader lease");
    } catch (e) {
      this.log.warn("could not release the leader lease (it will expire)", { error: describeApiError(e) });
    }
  }
}
