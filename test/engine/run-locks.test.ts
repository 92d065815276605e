// Run locks between engines with their own connections (as two processes have): a run waits for,
// or refuses to start beside, another that holds its MA or the metaverse; an erasure takes the same
// locks; a run whose lock connection is lost stops at its next batch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEngine, type Engine } from "../../src/engine/index.ts";
import { eraseSubject } from "../../src/engine/erase.ts";
import { resolveSubject } from "../../src/privacy/subject.ts";
import { LockBusyError, runLocksFor } from "../../src/store/lock.ts";
import { openDatabase } from "../../src/store/index.ts";
import { testDatabase } from "../harness/postgres.ts";
import { HR_COLUMNS, person, standardConfig, writeCsv } from "./builders.ts";

const HOLDER = /by idsync \(pid \d+ on [^)]+\) \((?<what>[^)]+)\) since \d{4}-\d\d-\d\dT[\d:.]+Z/;

function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

/**
 * Calls hold(fn) and resolves once fn runs (the locks are taken); fn then waits for the gate.
 * The hold's promise comes back wrapped: returned bare, an async function would wait for it.
 */
async function holding(hold: (fn: () => Promise<void>) => Promise<void>, g: { wait: Promise<void> }): Promise<{ done: Promise<void> }> {
  const started = gate();
  const done = hold(async () => {
    started.open();
    await g.wait;
  });
  await Promise.race([started.wait, done]);
  return { done };
}

test("engines with their own connections take turns", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "idsync-locks-"));
  const pg = await testDatabase("locks");
  const engines: Engine[] = [];
  const engine = async (lockWaitMs = 0) => {
    const e = await openEngine({ database: await openDatabase({ url: pg.url }), lockWaitMs, batchSize: 2 });
    engines.push(e);
    return e;
  };
  t.after(async () => {
    for (const e of engines) await e.close();
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [1, 2, 3, 4, 5].map((n) => person(n)));
  const a = await engine();
  await a.apply(standardConfig(dir));
  assert.equal((await a.cycle()).status, "success");
  const b = await engine();
  const patient = await engine(30_000);

  await t.test("a run of an MA that another holds stops at once, naming the holder", async () => {
    const g = gate();
    const held = await holding((fn) => a.exclusive("subject erase", fn), g);
    try {
      await assert.rejects(b.run("hr", "full-import"), (e: Error) => {
        assert.ok(e instanceof LockBusyError);
        assert.match(e.message, /^MA hr is being run /);
        assert.equal(HOLDER.exec(e.message)?.groups?.what, "subject erase");
        return true;
      });
      await assert.rejects(b.run("directory", "delta-sync"), { message: /^the metaverse is being synchronized by idsync/ });
      assert.equal((await b.database.query(`select 1 from run_history where status = 'running'`)).rows.length, 0, "a refused run leaves no history");
    } finally {
      g.open();
      await held.done;
    }
  });

  await t.test("with a lock wait, it runs once the other lets go", async () => {
    const g = gate();
    let released = false;
    const held = await holding((fn) => a.exclusive("retention", async () => {
      await fn();
      released = true;
    }), g);
    const waiting = patient.run("hr", "full-sync");
    setTimeout(g.open, 500);
    const r = await waiting;
    assert.ok(released, "it started only after the holder was done");
    assert.equal(r.status, "success");
    await held.done;
  });

  await t.test("imports of different MAs run side by side; a sync waits for both", async () => {
    const g = gate();
    // What an import of hr holds: its MA only.
    const held = await holding((fn) => runLocksFor(a.database).with(["ma:hr"], { what: "full-import of hr" }, fn), g);
    try {
      assert.equal((await b.run("directory", "full-import")).status, "success", "another MA's import runs meanwhile");
      await assert.rejects(b.run("hr", "delta-import"), { message: /^MA hr is being run by idsync .*\(full-import of hr\)/ });
      await assert.rejects(b.run("directory", "delta-sync"), { message: /^MA hr is being run by idsync/ });
    } finally {
      g.open();
      await held.done;
    }
  });

  await t.test("an erasure takes the same locks as a run", async () => {
    const g = gate();
    const held = await holding((fn) => a.exclusive("full-sync of hr", fn), g);
    try {
      const subject = await resolveSubject(b.database, "hr/E0003");
      await assert.rejects(eraseSubject(b, subject, { actor: "test", secrets: async () => "" }), { message: /is being run by idsync|is being synchronized by idsync/ });
      assert.equal((await b.database.query(`select 1 from cs_object where anchor = 'E0003'`)).rows.length, 2, "nothing was erased");
    } finally {
      g.open();
      await held.done;
    }
  });

  await t.test("a run whose lock connection is lost stops at its next batch", async () => {
    const r = await a.exclusive("test", async () => {
      // The lock session is the backend holding idsync's advisory locks.
      await b.database.query(`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and classid = 7220302 and granted`);
      await new Promise((res) => setTimeout(res, 200));
      return a.run("hr", "full-sync");
    });
    assert.equal(r.status, "failed");
    assert.match(r.message ?? "", /locks was lost/);
    // The next run takes fresh locks and finishes.
    assert.equal((await a.run("hr", "full-sync")).status, "success");
  });
});
