// Prometheus metrics in the text exposition format (version 0.0.4), written by hand: the format is
// small and stable, and a client library would be one more dependency in the image for ~100 lines.

export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (extra) pairs.push(extra);
  return pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function keyOf(labels: Labels): string {
  return labelText(labels);
}

function num(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string) {}
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease`);
    const k = keyOf(labels);
    const v = this.values.get(k) ?? { labels, value: 0 };
    v.value += by;
    this.values.set(k, v);
  }
  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }
  samples(): string[] {
    return [...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${num(v.value)}`);
  }
}

export class Gauge {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string) {}
  set(value: number, labels: Labels = {}): void {
    this.values.set(keyOf(labels), { labels, value });
  }
  /** Forgets a series (an MA that no longer exists must not keep reporting its last value). */
  remove(labels: Labels): void {
    this.values.delete(keyOf(labels));
  }
  get(labels: Labels = {}): number | undefined {
    return this.values.get(keyOf(labels))?.value;
  }
  samples(): string[] {
    return [...this.values.values()].map((v) => `${this.name}${labelText(v.labels)} ${num(v.value)}`);
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly buckets: number[]) {}
  observe(value: number, labels: Labels = {}): void {
    const k = keyOf(labels);
    const s = this.series.get(k) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]++;
    });
    s.sum += value;
    s.count++;
    this.series.set(k, s);
  }
  samples(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText(s.labels, ["le", num(b)])} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly families: Family[] = [];
  private add<T extends Counter | Gauge | Histogram>(metric: T, help: string, type: Family["type"]): T {
    if (this.families.some((f) => f.name === metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.families.push({ name: metric.name, help, type, render: () => metric.samples() });
    return metric;
  }
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name), help, "counter");
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name), help, "gauge");
  }
  histogram(name: string, help: string, buckets: number[]): Histogram {
    return this.add(new Histogram(name, [...buckets].sort((a, b) => a - b)), help, "histogram");
  }
  /** The exposition text: HELP and TYPE for every family, then its samples. */
  render(): string {
    const lines: string[] = [];
    for (const f of this.families) {
      lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      lines.push(`# TYPE ${f.name} ${f.type}`);
      lines.push(...f.render());
    }
    return lines.join("\n") + "\n";
  }
}

/** The operator's metrics. */
export interface OperatorMetrics {
  registry: Registry;
  runs: Counter;
  runDuration: Histogram;
  objectsProcessed: Counter;
  errors: Counter;
  pendingExports: Gauge;
  workqueueDepth: Gauge;
  leader: Gauge;
  relists: Counter;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  const m: OperatorMetrics = {
    registry,
    runs: registry.counter("idsync_runs_total", "Run profiles executed, by namespace, management agent, profile and result."),
    runDuration: registry.histogram("idsync_run_duration_seconds", "Duration of run profiles in seconds, by namespace, management agent and profile.", [
      0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600,
    ]),
    objectsProcessed: registry.counter(
      "idsync_objects_processed_total",
      "Objects processed by runs, by namespace, management agent and kind of change (adds, updates, renames, deletes, joins, projections, provisions, deprovisions, ...).",
    ),
    errors: registry.counter("idsync_errors_total", "Errors, by kind: object (per-object run errors), run (failed runs), reconcile, api."),
    pendingExports: registry.gauge("idsync_pending_exports", "Pending exports (adds, updates, deletes, errors) per namespace and management agent."),
    workqueueDepth: registry.gauge("idsync_workqueue_depth", "Keys waiting in the reconcile work queue."),
    leader: registry.gauge("idsync_leader", "1 when this replica holds the leader lease, else 0."),
    relists: registry.counter("idsync_informer_relists_total", "Full re-lists by informers, by resource and reason."),
  };
  m.leader.set(0);
  m.workqueueDepth.set(0);
  return m;
}
