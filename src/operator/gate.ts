// How many runs the operator executes at once, across all namespaces. Each namespace has a run
// queue of its own (runqueue.ts: its engine's calls one after the other), so runs of different
// namespaces may overlap; this gate bounds how many do, first come first served, so that a
// hundred namespaces whose schedules fire together do not start a hundred imports on a two-core
// pod (and a hundred pools' worth of PostgreSQL connections), and no namespace waits for ever.

export class GateClosedError extends Error {
  constructor() {
    super("stopped while waiting for a run slot");
  }
}

export class Gate {
  private active = 0;
  private readonly waiting: Array<{ go: () => void }> = [];

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new Error(`a gate needs at least one slot (got ${size})`);
  }

  /** Runs fn once a slot is free; rejects with GateClosedError if `signal` aborts while waiting. */
  async with<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Slots in use and callers waiting (tests, logs). */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new GateClosedError());
    if (this.active < this.size) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        go: () => {
          signal?.removeEventListener("abort", onAbort);
          this.active++;
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new GateClosedError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.go();
  }
}
