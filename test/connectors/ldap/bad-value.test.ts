// A NUL character in one LDAP value (slapd stores it; PostgreSQL cannot) fails that entry, named by
// DN and attribute, not the import: the other entries import, and an entry that was imported before
// keeps its last good state instead of being taken for deleted.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
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
  pg = await testDatabase("ldap_nul");
  engine = await openEngine({ database: await openDatabase({ url: pg.url }), secrets: async () => slapd.password });
});
after(async () => {
  await engine?.close();
  await pg?.drop();
  await slapd?.stop();
});

const nul = Buffer.from("bad\u0000value").toString("base64");

test("an entry with a NUL value is that entry's error; the others import", async () => {
  const ma = ldapMA(slapd, [personType([{ name: "entryUUID" }, { name: "uid" }, { name: "cn" }, { name: "description" }])], { baseDN: `ou=people,${slapd.suffix}` });
  await engine.apply({ managementAgents: [ma], syncRules: [], retentionPolicies: [] });
  await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 3));
  assert.equal((await engine.run("directory", "full-import")).counts.adds, 3);

  const dn = `uid=u1,ou=people,${slapd.suffix}`;
  await slapd.cli("ldapmodify", [], `dn: ${dn}\nchangetype: modify\nreplace: description\ndescription:: ${nul}\n\n`);
  await slapd.cli("ldapadd", [], `dn: uid=new,ou=people,${slapd.suffix}\nobjectClass: inetOrgPerson\nuid: new\ncn: New\nsn: N\ndescription:: ${nul}\n\n` + peopleLdif(slapd.suffix, 1, "ok"));
  const r = await engine.run("directory", "full-import");
  assert.equal(r.status, "completed-with-errors", r.message);
  assert.equal(r.counts.adds, 1, "the good new entry imports");
  assert.equal(r.counts.deletes, 0, "the bad entry is not taken for deleted");
  const bad = r.errors.filter((e) => e.code === "invalid-value");
  assert.equal(bad.length, 2);
  assert.ok(bad.some((e) => e.dn === dn && /attribute description holds a NUL character/.test(e.message)));
  const kept = (await engine.database.query<{ deleted: boolean; attrs: Record<string, unknown> }>(`select deleted, attrs from cs_object where dn_norm like 'uid=u1,%'`)).rows[0];
  assert.equal(kept.deleted, false);
  assert.equal(kept.attrs.description, undefined, "its last good state");
});
