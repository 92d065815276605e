// A work queue of keys with client-go's workqueue semantics, which level-based reconciling needs:
//  - dedup: a key waiting in the queue is there once, however many events named it;
//  - per-key exclusivity: a key being processed is not handed to a second worker; if it is added
//    meanwhile it is marked dirty and queued again when the first worker calls done();
//  - rate limiting: a failing key is retried after a per-key exponential back-off (forget() resets it).

export interface RateLimiterOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Per-key exponential back-off: base·2^failures, capped. */
export class ExponentialRateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly base: number;
  private readonly max: number;
  constructor(opts: RateLimiterOptions = {}) {
    this.base = opts.baseDelayMs ?? 100;
    this.max = opts.maxDelayMs ?? 300_000;
  }
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.max, this.base * 2 ** Math.min(n, 40));
  }
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
  forget(key: string): void {
    this.failures.delete(key);
  }
}

export interface WorkQueueOptions extends RateLimiterOptions {
  /** Called with the number of waiting keys whenever it changes (the depth metric). */
  onDepth?: (depth: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly limiter: ExponentialRateLimiter;
  private stopped = false;

  constructor(private readonly opts: WorkQueueOptions = {}) {
    this.limiter = new ExponentialRateLimiter(opts);
  }

  get shuttingDown(): boolean {
    return this.stopped;
  }

  /** Keys waiting to be processed (not counting those in progress or delayed). */
  len(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() puts it back
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.opts.onDepth?.(this.queue.length);
  }

  /** Adds the key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, timer });
  }

  /** Retries the key after its back-off; the back-off doubles with every call until forget(). */
  addRateLimited(key: string): number {
    const delay = this.limiter.when(key);
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  retries(key: string): number {
    return this.limiter.retries(key);
  }

  /** The next key to process, or undefined once the queue is shut down. Call done(key) after. */
  get(): Promise<string | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.opts.onDepth?.(this.queue.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.stopped) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Stops handing out keys: waiting and delayed keys are dropped, workers' get() resolves undefined. */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue.length = 0;
    this.dirty.clear();
    this.opts.onDepth?.(0);
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Resolves when no key is being processed (after shutdown: when the work in flight is finished). */
  drain(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/**
 * Runs `workers` loops that take keys from the queue and hand them to `process`; a thrown error
 * re-queues the key rate-limited, success forgets its back-off. Resolves when the queue shuts down.
 */
export async function runWorkers(
  queue: WorkQueue,
  workers: number,
  process: (key: string) => Promise<void>,
  onError: (key: string, error: unknown, retryInMs: number) => void,
): Promise<void> {
  const loop = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await process(key);
        queue.forget(key);
      } catch (e) {
        if (!queue.shuttingDown) onError(key, e, queue.addRateLimited(key));
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
}
