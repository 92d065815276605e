// Staging mode: the MA imports and syncs, pending exports are computed, nothing is exported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { directoryAgent, hrAgent, hrInbound, directoryOutbound, openTestEngine, person, retention } from "./fixture.ts";

test("an MA in staging mode computes pending exports but never exports", async () => {
  const t = await openTestEngine();
  try {
    t.writeHr([person(1), person(2)]);
    const config = (staging: boolean) => ({
      managementAgents: [hrAgent(t.dir), directoryAgent(t.dir, { stagingMode: staging })],
      syncRules: [hrInbound(), directoryOutbound()],
      retentionPolicies: [retention(["hr"])],
    });
    await t.engine.apply(config(true));
    const cycle = await t.engine.cycle();
    const exp = cycle.runs.find((r) => r.ma === "directory" && r.profile === "export")!;
    assert.equal(exp.status, "staging");
    assert.equal(t.readDirectory().length, 0);
    assert.equal((await t.engine.status("directory")).pendingExports.adds, 2);

    await t.engine.apply(config(false));
    await t.engine.cycle();
    assert.equal(t.readDirectory().length, 2);
  } finally {
    await t.close();
  }
});
