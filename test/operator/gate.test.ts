// The gate around runs: at most `size` at once across all namespaces' run queues, first come first
// served, and a caller still waiting when its queue stops is let go without running.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Gate, GateClosedError } from "../../src/operator/gate.ts";

describe("run gate", () => {
  it("lets `size` through at once, in arrival order, and releases waiters on abort", async () => {
    const gate = new Gate(2);
    const order: string[] = [];
    const opened: Array<() => void> = [];
    const task = (name: string) => () =>
      new Promise<string>((resolve) => {
        order.push(`start ${name}`);
        opened.push(() => resolve(name));
      });
    const a = gate.with(task("a"));
    const b = gate.with(task("b"));
    const c = gate.with(task("c"));
    const stop = new AbortController();
    const d = gate.with(task("d"), stop.signal);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ["start a", "start b"]);
    assert.deepEqual(gate.load, { active: 2, waiting: 2 });

    stop.abort();
    await assert.rejects(d, GateClosedError);
    opened[0]();
    assert.equal(await a, "a");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ["start a", "start b", "start c"], "c, not the aborted d, takes a's slot");
    opened[1]();
    opened[2]();
    assert.deepEqual(await Promise.all([b, c]), ["b", "c"]);
    assert.deepEqual(gate.load, { active: 0, waiting: 0 });
  });
});
