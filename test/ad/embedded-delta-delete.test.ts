// On the embedded database, a delta import that reports a deletion idsync did not make (an account
// deleted by hand in AD) completes. It used to wait for ever: the deletion guard counted the
// connector space outside the transaction that held PGlite's one connection.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { describeRuns, PEOPLE, startAdExample, type AdExample } from "./helpers.ts";

let ex: AdExample;
before(async () => {
  ex = await startAdExample({ people: 8, embedded: true });
  const first = await ex.cycle();
  assert.equal(first.status, "success", describeRuns(first));
});
after(async () => {
  await ex?.close();
});

test("a deletion read by a delta import is applied, not waited on for ever", async () => {
  const [gone] = await ex.search(PEOPLE, "(objectClass=user)", ["1.1"]);
  await ex.dc.ldapmodify(`dn: ${gone.dn}\nchangetype: delete\n`);
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    ex.engine.run("directory", "delta-import"),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("the delta import did not finish within 60 s")), 60_000))),
  ]).finally(() => clearTimeout(timer));
  assert.equal(result.status, "success", JSON.stringify(result));
  assert.equal(result.counts.deletes, 1);
});
