// The personal-data commands through the real CLI: search, show with lineage and source of
// authority, export as CSV, and erase — which refuses to run unconfirmed without a terminal, and
// tells how the source of authority must change.
import { test } from "node:test";
import assert from "node:assert/strict";
import { idsync, populatedEngine } from "./fixture.ts";

test("search, show, export and erase from the command line", async () => {
  const t = await populatedEngine();
  try {
    const search = await idsync(t.url, ["-o", "json", "search", "Quaint*"]);
    assert.equal(search.code, 0, search.stderr);
    assert.deepEqual(JSON.parse(search.stdout).hits.map((h: { name: string }) => h.name), ["hr/E0007"]);

    const show = await idsync(t.url, ["show", "E0007"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /source of authority/);
    assert.match(show.stdout, /displayName\s+"Zerlinda Quaintrelle"\s+hr \/ hr-inbound, \S+\s+hr\s+directory\/E0007\.displayName="Zerlinda Quaintrelle"/);
    assert.match(show.stdout, /referenced by: mv:\d+ \(manager\), mv:\d+ \(manager\)/);
    const redacted = await idsync(t.url, ["show", "E0007", "--redact"]);
    assert.doesNotMatch(redacted.stdout, /Zerlinda/, "with nothing declared personal, --redact hides every value");

    const csv = await idsync(t.url, ["subject", "export", "hr/E0007", "--format", "csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trim().split("\r\n");
    assert.equal(lines[0], "section,object,attribute,value,detail");
    assert.ok(lines.some((l) => l.startsWith("connector,hr/E0007,givenName,Zerlinda,")));
    assert.ok(lines.some((l) => l.startsWith("run-error,")), "the run error naming them is exported");

    const refused = await idsync(t.url, ["subject", "erase", "hr/E0007"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to erase without --yes: standard input is not a terminal/);
    assert.equal((await t.db.query(`select 1 from cs_object where anchor = 'E0007'`)).rows.length, 2, "nothing was erased");

    const erased = await idsync(t.url, ["subject", "erase", "hr/E0007", "--yes"]);
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stdout, /directory\/E0007: deleted in the target system, then removed/);
    assert.match(erased.stdout, /hr is a source of authority and still holds this person \(hr\/E0007\)/);
    assert.match(erased.stdout, /rule hr-inbound's scope \(false = ignored\): source\.status in \["active", "leave"\]/);
    assert.match(erased.stdout, /idsync subject unsuppress hr\/E0007/);
    const gone = await idsync(t.url, ["show", "hr/E0007"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no metaverse object or connector-space object named 'hr\/E0007'/);
  } finally {
    await t.close();
  }
});
