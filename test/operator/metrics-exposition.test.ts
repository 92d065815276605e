// The hand-written Prometheus text exposition: HELP/TYPE per family, escaped labels, cumulative
// histogram buckets with +Inf, _sum and _count; what Prometheus' parser expects.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createOperatorMetrics, Registry } from "../../src/operator/metrics.ts";

describe("metrics exposition", () => {
  it("renders counters, gauges and histograms in the text format", () => {
    const r = new Registry();
    const c = r.counter("t_runs_total", "Runs.");
    c.inc({ ma: "hr", profile: "full-import" });
    c.inc({ profile: "full-import", ma: "hr" }, 2); // label order does not make a new series
    c.inc({ ma: 'we"ird\\na\nme' });
    const h = r.histogram("t_seconds", "Durations.", [1, 0.5]);
    h.observe(0.2);
    h.observe(0.7);
    h.observe(3);
    const g = r.gauge("t_depth", "Depth.");
    g.set(4);
    assert.equal(
      r.render(),
      [
        "# HELP t_runs_total Runs.",
        "# TYPE t_runs_total counter",
        't_runs_total{ma="hr",profile="full-import"} 3',
        't_runs_total{ma="we\\"ird\\\\na\\nme"} 1',
        "# HELP t_seconds Durations.",
        "# TYPE t_seconds histogram",
        't_seconds_bucket{le="0.5"} 1',
        't_seconds_bucket{le="1"} 2',
        't_seconds_bucket{le="+Inf"} 3',
        "t_seconds_sum 3.9",
        "t_seconds_count 3",
        "# HELP t_depth Depth.",
        "# TYPE t_depth gauge",
        "t_depth 4",
        "",
      ].join("\n"),
    );
    assert.throws(() => c.inc({}, -1), /cannot decrease/);
    assert.throws(() => r.counter("t_runs_total", "again"), /twice/);
  });

  it("declares the operator's families", () => {
    const text = createOperatorMetrics().registry.render();
    for (const family of ["idsync_runs_total", "idsync_run_duration_seconds", "idsync_objects_processed_total", "idsync_errors_total", "idsync_pending_exports", "idsync_workqueue_depth", "idsync_leader"]) {
      assert.match(text, new RegExp(`^# TYPE ${family} `, "m"));
    }
    assert.match(text, /^idsync_leader 0$/m);
  });
});
