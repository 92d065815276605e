// An LDAP source that returns zero objects while the connector space holds some (a base DN emptied
// by a botched migration, a bind account that lost its read right) is held as "source empty",
// exactly like an empty CSV file: no connector-space object is marked deleted, no identity is lost.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ConfigSet } from "../../../src/config/model.ts";
import { openEngine, type Engine } from "../../../src/engine/index.ts";
import { openDatabase } from "../../../src/store/index.ts";
import { testDatabase, type TestDatabase } from "../../harness/postgres.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { ldapMA, peopleLdif, personType } from "./helpers.ts";

let slapd: Slapd;
let pg: TestDatabase;
let engine: Engine;
before(async () => {
  slapd = await startSlapd();
  pg = await testDatabase("ldap_empty");
  engine = await openEngine({ database: await openDatabase({ url: pg.url }), secrets: async () => slapd.password });
});
after(async () => {
  await engine?.close();
  await pg?.drop();
  await slapd?.stop();
});

function config(allowEmpty: boolean): ConfigSet {
  const ma = ldapMA(slapd, [personType([{ name: "entryUUID" }, { name: "uid" }, { name: "cn" }, { name: "sn" }])], { baseDN: `ou=people,${slapd.suffix}` });
  ma.spec.deletionThreshold = {}; // what holds here is the empty-source check alone
  ma.spec.allowEmpty = allowEmpty;
  return {
    managementAgents: [ma],
    syncRules: [
      {
        apiVersion: "idsync.dev/v1alpha1",
        kind: "SyncRule",
        metadata: { name: "people-inbound" },
        spec: {
          direction: "inbound",
          managementAgent: "directory",
          sourceObjectType: "person",
          metaverseObjectType: "person",
          precedence: 10,
          join: [{ metaverse: "uid", expression: "source.uid" }],
          projection: true,
          attributeFlows: [
            { target: "uid", expression: "source.uid" },
            { target: "cn", expression: "source.cn" },
          ],
        },
      },
    ],
    retentionPolicies: [],
  };
}

const live = async () => (await engine.database.query<{ n: number }>(`select count(*) as n from mv_object where deleted_at is null`)).rows[0].n;

test("zero entries where there were five is held as source empty; allowEmpty lets it through", async () => {
  await engine.apply(config(false));
  await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 5));
  assert.equal((await engine.run("directory", "full-import")).counts.adds, 5);
  assert.equal((await engine.run("directory", "full-sync")).counts.projections, 5);

  for (let i = 0; i < 5; i++) await slapd.cli("ldapdelete", [`uid=u${i},ou=people,${slapd.suffix}`]);
  const held = await engine.run("directory", "full-import");
  assert.equal(held.status, "stopped-source-empty");
  assert.equal(held.blockedDeletes, 5);
  assert.match(held.message ?? "", /directory returned no object while its connector space holds 5/);
  await engine.run("directory", "full-sync");
  assert.equal(await live(), 5, "every identity is kept");

  await engine.apply(config(true));
  const through = await engine.run("directory", "full-import");
  assert.equal(through.status, "success");
  assert.equal(through.counts.deletes, 5);
  await engine.run("directory", "delta-sync");
  assert.equal(await live(), 0);
});
