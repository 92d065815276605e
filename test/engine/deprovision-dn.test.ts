// deprovision: disable with deprovisionDN, against a real slapd: a leaver's entry is moved (modDN,
// same entryUUID) to the disabled OU with the deprovision flows' values in the same export, stays
// there while out of scope (no sync moves it back), and comes back to the rule's dn, re-enabled,
// when the person is back in scope.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigSet } from "../../src/config/model.ts";
import { normalizeDN } from "../../src/expr/dn.ts";
import { openEngine, type Engine } from "../../src/engine/index.ts";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { startSlapd, type Slapd } from "../harness/slapd.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { ldapMA, personType } from "../connectors/ldap/helpers.ts";
import { parseLdif } from "../e2e/helpers.ts";
import { HR_COLUMNS, hrAgent, hrInbound, retention, rule, writeCsv } from "./fixture.ts";

let slapd: Slapd;
let database: TestDatabase;
let db: Database;
let engine: Engine;
let dir: string;
before(async () => {
  slapd = await startSlapd();
  await slapd.cli("ldapadd", [], `dn: ou=disabled,${slapd.suffix}\nobjectClass: organizationalUnit\nou: disabled\n`);
  database = await testDatabase();
  dir = mkdtempSync(join(tmpdir(), "idsync-deprovision-dn-"));
  db = await openDatabase({ url: database.url });
  engine = await openEngine({
    database: db,
    secrets: async (name, key) => {
      if (name === "ldap-bind" && key === "password") return slapd.password;
      throw new Error(`no secret ${name}/${key}`);
    },
  });
});
after(async () => {
  await engine?.close();
  await database?.drop();
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function config(retentionPolicies: ConfigSet["retentionPolicies"] = []): ConfigSet {
  const cn = (ou: string) => `"cn=" + escapeDNComponent(mv.displayName) + ",ou=${ou},${slapd.suffix}"`;
  return {
    managementAgents: [
      hrAgent(dir),
      ldapMA(slapd, [
        personType([{ name: "entryUUID" }, { name: "cn" }, { name: "sn" }, { name: "employeeNumber" }, { name: "description" }]),
      ]),
    ],
    syncRules: [
      hrInbound({
        attributeFlows: [
          { target: "employeeId", expression: "source.employeeId" },
          { target: "sn", expression: "source.sn" },
          { target: "displayName", expression: 'source.givenName + " " + source.sn' },
          { target: "status", expression: "source.status" },
        ],
      }),
      rule("directory-outbound", {
        direction: "outbound",
        managementAgent: "directory",
        metaverseObjectType: "person",
        targetObjectType: "person",
        precedence: 10,
        scope: 'mv.status == "active"',
        provision: true,
        dn: cn("people"),
        deprovision: "disable",
        deprovisionDN: cn("disabled"),
        deprovisionFlows: [{ target: "description", expression: '"disabled"' }],
        attributeFlows: [
          { target: "cn", expression: "mv.displayName" },
          { target: "sn", expression: "mv.sn" },
          { target: "employeeNumber", expression: "mv.employeeId" },
          { target: "description", expression: '"enabled"' },
        ],
      }),
    ],
    retentionPolicies,
  };
}

const ann = { employeeId: "E0001", givenName: "Ann", sn: "Lee", department: "Sales", managerId: "", status: "active", employeeType: "employee" };
const bob = { ...ann, employeeId: "E0002", givenName: "Bob", sn: "Roe" };

async function entryOf(employeeNumber: string) {
  const found = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", slapd.suffix, `(employeeNumber=${employeeNumber})`, "entryUUID", "description"]));
  assert.equal(found.length, 1, `one entry for ${employeeNumber}`);
  return { dn: normalizeDN(found[0].dn), uuid: found[0].get("entryUUID"), description: found[0].get("description") };
}

const dnIn = (ou: string, name: string) => normalizeDN(`cn=${name},ou=${ou},${slapd.suffix}`);

test("a leaver is moved to the disabled OU and disabled; back in scope, moved back and enabled", async () => {
  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [ann, bob]);
  await engine.apply(config());
  assert.equal((await engine.cycle()).status, "success");
  const joined = await entryOf("E0001");
  assert.deepEqual({ dn: joined.dn, description: joined.description }, { dn: dnIn("people", "Ann Lee"), description: "enabled" });

  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [{ ...ann, status: "leave" }, bob]);
  const left = await engine.cycle();
  assert.equal(left.status, "success", JSON.stringify(left.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
  const exported = left.runs.filter((r) => r.ma === "directory" && r.profile === "export");
  assert.equal(exported.reduce((n, r) => n + r.counts.renames, 0), 1, "one rename, sent as a modDN");
  const moved = await entryOf("E0001");
  assert.deepEqual(moved, { dn: dnIn("disabled", "Ann Lee"), uuid: joined.uuid, description: "disabled" }, "the same entry, moved and disabled");
  assert.equal((await entryOf("E0002")).dn, dnIn("people", "Bob Roe"), "the others stay");

  // Out of scope it stays where it was moved: no sync "fixes" its DN back to the rule's dn.
  const again = await engine.cycle({ full: true });
  assert.equal(again.changed, false);
  assert.equal((await entryOf("E0001")).dn, dnIn("disabled", "Ann Lee"));
  const cs = (await db.query<{ dn: string; mv_id: number | null }>(`select dn, mv_id from cs_object where ma = 'directory' and attrs->>'employeeNumber' = 'E0001'`)).rows;
  assert.deepEqual(cs.map((c) => [normalizeDN(c.dn), c.mv_id]), [[dnIn("disabled", "Ann Lee"), null]]);

  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [ann, bob]);
  const back = await engine.cycle();
  assert.equal(back.status, "success");
  const returned = await entryOf("E0001");
  assert.deepEqual(returned, { dn: dnIn("people", "Ann Lee"), uuid: joined.uuid, description: "enabled" }, "its own entry, moved back and enabled");
  assert.equal((await engine.cycle({ full: true })).changed, false);
});

test("a leaver whose identity is deleted is moved with the values it had; rehired, it is moved back", async () => {
  // Deleted when HR no longer has the person in scope: the deleted identity keeps its values (for
  // the grace period), so deprovisionDN still has a displayName to build the DN from.
  await engine.apply(config([retention(["hr"])]));
  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [ann, { ...bob, status: "terminated" }]);
  const left = await engine.cycle();
  assert.equal(left.status, "success", JSON.stringify(left.runs.map((r) => [r.ma, r.profile, r.status, r.message])));
  const deleted = (await db.query<{ deleted_at: string | null }>(`select deleted_at from mv_object where attrs->>'employeeId' = 'E0002'`)).rows;
  assert.notEqual(deleted[0]?.deleted_at ?? null, null, "the identity is deleted");
  const before = await entryOf("E0002");
  assert.deepEqual({ dn: before.dn, description: before.description }, { dn: dnIn("disabled", "Bob Roe"), description: "disabled" });

  writeCsv(join(dir, "hr.csv"), HR_COLUMNS, [ann, bob]);
  const back = await engine.cycle();
  assert.equal(back.status, "success");
  assert.deepEqual(await entryOf("E0002"), { dn: dnIn("people", "Bob Roe"), uuid: before.uuid, description: "enabled" });
  assert.equal((await engine.cycle({ full: true })).changed, false);
});
