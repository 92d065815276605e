// The server killed mid-export: ConnectorUnavailableError with the results that did complete; after
// a restart the same connector reconnects and the remaining operations succeed, nothing twice.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client } from "ldapts";
import { ConnectorUnavailableError } from "../../../src/connectors/errors.ts";
import type { Connector, ExportOperation } from "../../../src/connectors/types.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, parseLdif, personType } from "./helpers.ts";

let slapd: Slapd;
let c: Connector;
before(async () => {
  slapd = await startSlapd();
  c = connectorFor(slapd, [personType([{ name: "uid" }, { name: "cn" }, { name: "sn" }])]);
});
after(async () => {
  await c.close();
  await slapd.stop();
});

/** Resolves once the entry exists (polled as the rootdn). */
async function waitForEntry(dn: string): Promise<void> {
  const client = new Client({ url: slapd.url });
  await client.bind(slapd.rootDN, slapd.rootPassword);
  try {
    for (;;) {
      try {
        const r = await client.search(dn, { scope: "base", attributes: ["1.1"] });
        if (r.searchEntries.length === 1) return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

test("kill -9 during an export, restart, export the rest", async () => {
  const people = `ou=people,${slapd.suffix}`;
  const N = 6000;
  const ops: ExportOperation[] = [];
  for (let i = 0; i < N; i++) ops.push({ op: "add", id: `p${i}`, objectType: "person", dn: `uid=p${i},${people}`, attrs: { uid: `p${i}`, cn: `P ${i}`, sn: "P" } });

  const exporting = c.export(ops);
  await waitForEntry(`uid=p100,${people}`);
  slapd.kill();
  const err = await exporting.then(
    () => assert.fail("the export must not succeed with the server gone"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectorUnavailableError, String(err));
  assert.match(err.message, new RegExp(slapd.url.replace(/[./]/g, "\\$&")));
  assert.ok(!err.message.includes(slapd.password), "no secret in the message");
  const partial = err.partialResults;
  assert.ok(partial.length >= 100 && partial.length < N, `partial results: ${partial.length}`);
  assert.ok(partial.every((r) => r.ok), "completed operations are reported as such");

  // Server still down: the connector says so, with no results at all.
  const down = await c.export([ops[N - 1]]).catch((e: unknown) => e);
  assert.ok(down instanceof ConnectorUnavailableError);
  assert.deepEqual(down.partialResults, []);

  await slapd.restart();
  const done = new Set(partial.map((r) => r.id));
  const rest = ops.filter((o) => !done.has(o.id));
  const results = await c.export(rest); // same connector: reconnects on its own
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, []);

  // Every person exactly once, and the anchors reported before the crash are the entries' own.
  const out = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", people, "(objectClass=inetOrgPerson)", "uid", "entryUUID"]));
  assert.equal(out.length, N);
  const uuidByDn = new Map(out.map((e) => [e.dn.toLowerCase(), e.attrs.get("entryuuid")![0]]));
  for (const r of partial) if (r.ok) assert.equal(uuidByDn.get(r.dn!.toLowerCase()), r.anchor);
  for (const r of results) if (r.ok) assert.equal(uuidByDn.get(r.dn!.toLowerCase()), r.anchor);
});
