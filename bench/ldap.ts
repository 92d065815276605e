// LDAP benchmark: 10k people of the HR → OpenLDAP example exported by the engine to a fresh slapd,
// beside OpenLDAP's own ldapadd of the same entries (an LDIF made from the engine's pending adds:
// same DNs, same values, same bind account) into another fresh slapd; then the engine's full
// import of them back beside a paged ldapsearch of the same attributes as the same account.
// Targets: export ≥ 0.9× ldapadd's rate, import ≥ 0.5× ldapsearch's rate.
//
//   BENCH_LDAP_SIZE=10000   people (default 10000)
//   BENCH_ONLY=ldap         run only this part (npm run bench)
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigDirectory } from "../src/config/index.ts";
import type { ConfigSet } from "../src/config/model.ts";
import { openEngine, type Engine } from "../src/engine/index.ts";
import { openDatabase } from "../src/store/index.ts";
import { startSlapd, type Slapd } from "../test/harness/slapd.ts";
import { people, writeHrCsv } from "./hr-data.ts";

import { freshDatabase, peakRssMb, printRows, timed, type Row } from "./report.ts";

const EXAMPLE = new URL("../examples/hr-to-openldap/", import.meta.url).pathname;

/** The example's people part (hr → metaverse → directory), reading `hrCsv`, writing to `url`. */
async function exampleConfig(hrCsv: string, url: string): Promise<ConfigSet> {
  const loaded = await loadConfigDirectory(EXAMPLE);
  if (!loaded.config) throw new Error(`examples/hr-to-openldap does not load: ${JSON.stringify(loaded.errors)}`);
  const c = loaded.config;
  const mas = c.managementAgents.filter((m) => m.metadata.name === "hr" || m.metadata.name === "directory");
  for (const m of mas) {
    if (m.spec.connector.csv) m.spec.connector.csv.path = hrCsv;
    if (m.spec.connector.ldap) m.spec.connector.ldap.url = url;
    m.spec.deletionThreshold = undefined;
  }
  return {
    managementAgents: mas,
    syncRules: c.syncRules.filter((r) => r.spec.managementAgent !== "hr-departments" && r.spec.metaverseObjectType === "person"),
    retentionPolicies: c.retentionPolicies.filter((p) => p.spec.metaverseObjectType === "person"),
  };
}

/** Runs an OpenLDAP client tool, its output discarded (ldapsearch still formats every entry). */
function tool(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${stderr.slice(0, 500)}`))));
  });
}

const SAFE = /^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const ldifLine = (name: string, value: string) => (SAFE.test(value) && !value.endsWith(" ") ? `${name}: ${value}` : `${name}:: ${Buffer.from(value, "utf8").toString("base64")}`);

/** The engine's pending adds to the directory as LDIF: exactly what the export is about to send. */
async function pendingAddsAsLdif(engine: Engine, objectClasses: string[]): Promise<{ ldif: string; count: number }> {
  const rows = (
    await engine.database.query<{ dn: string; changes: Record<string, string | string[]> }>(
      `select c.dn, p.changes from pending_export p join cs_object c on c.id = p.cs_id
        where p.ma = 'directory' and p.op = 'add' order by p.cs_id`,
    )
  ).rows;
  const blocks = rows.map((r) => {
    const lines = [ldifLine("dn", r.dn), ...objectClasses.map((oc) => `objectClass: ${oc}`)];
    for (const [name, value] of Object.entries(r.changes)) for (const v of Array.isArray(value) ? value : [value]) lines.push(ldifLine(name, String(v)));
    return lines.join("\n");
  });
  return { ldif: blocks.join("\n\n") + "\n", count: rows.length };
}

/** Best (shortest) of `times` timed runs. */
async function best(times: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < times; i++) min = Math.min(min, (await timed(fn)).seconds);
  return min;
}

/**
 * One full comparison: prepare the engine up to the export, ldapadd the same entries into a fresh
 * slapd (the floor), export, then read them back (ldapsearch floor, engine imports). The floors are
 * measured right next to the engine's run, so a busy machine slows both alike.
 */
async function compare(serverUrl: string, dir: string, hrCsv: string, readAnchorAfterAdd: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const add = (step: string, objects: number, seconds: number, note?: string) => rows.push({ step, objects, seconds, rate: objects / seconds, peakRssMb: peakRssMb(), note });
  const label = readAnchorAfterAdd ? "anchors via Post-Read" : "readAnchorAfterAdd: false";
  const slapd: Slapd = await startSlapd();
  const db = await openDatabase({ url: await freshDatabase(serverUrl, `idsync_bench_ldap_${readAnchorAfterAdd ? "pr" : "nopr"}`) });
  const engine = await openEngine({ database: db, secrets: async () => slapd.password });
  try {
    const config = await exampleConfig(hrCsv, slapd.url);
    const directory = config.managementAgents.find((m) => m.metadata.name === "directory")!;
    directory.spec.connector.ldap!.readAnchorAfterAdd = readAnchorAfterAdd;
    const person = directory.spec.objectTypes.find((t) => t.name === "person")!;
    await engine.apply(config);
    const prep = await timed(async () => {
      for (const ma of ["hr", "directory"]) await engine.run(ma, "full-import");
      for (const ma of ["hr", "directory"]) await engine.run(ma, "full-sync");
    });
    const ldif = await pendingAddsAsLdif(engine, person.objectClasses ?? []);
    if (readAnchorAfterAdd) add("(prep) hr import + sync: provisioning", ldif.count, prep.seconds, "not compared");
    const ldifFile = join(dir, "people.ldif");
    writeFileSync(ldifFile, ldif.ldif);

    // The floor: OpenLDAP's ldapadd of the same entries into a fresh slapd, as the same account.
    const floorServer = await startSlapd();
    let ldapadd: number;
    try {
      ldapadd = (await timed(() => tool("ldapadd", ["-x", "-H", floorServer.url, "-D", floorServer.bindDN, "-w", floorServer.password, "-f", ldifFile]))).seconds;
    } finally {
      await floorServer.stop();
    }
    add("ldapadd of the same LDIF (floor)", ldif.count, ldapadd);
    const exp = await timed(() => engine.run("directory", "export"));
    if (exp.value.status !== "success") throw new Error(`export: ${exp.value.status} ${exp.value.message ?? ""} ${JSON.stringify(exp.value.errors.slice(0, 3))}`);
    add(`engine export (${label})`, exp.value.counts.exported, exp.seconds, `${(ldapadd / exp.seconds).toFixed(2)}× ldapadd's rate (target ≥ 0.9)`);

    // Import: a paged ldapsearch of the attributes the connector reads, then the engine's full imports.
    const attrs = [...person.attributes.map((a) => a.name), "entryCSN", "modifyTimestamp"];
    const searchArgs = ["-x", "-LLL", "-H", slapd.url, "-D", slapd.bindDN, "-w", slapd.password, "-E", `pr=${directory.spec.connector.ldap!.pageSize ?? 500}/noprompt`, "-b", "dc=example,dc=org", "(objectClass=inetOrgPerson)", ...attrs];
    const search = await best(3, () => tool("ldapsearch", searchArgs));
    add("ldapsearch paged (floor, best of 3)", ldif.count, search);
    const imp = await timed(() => engine.run("directory", "full-import"));
    if (imp.value.status !== "success") throw new Error(`import: ${imp.value.status} ${imp.value.message ?? ""}`);
    add("engine full import confirming the adds", ldif.count, imp.seconds, `${(search / imp.seconds).toFixed(2)}× ldapsearch's rate (target ≥ 0.5); ${imp.value.counts.confirmed} confirmed`);
    const again = await best(2, async () => {
      const r = await engine.run("directory", "full-import");
      if (r.counts.unchanged !== ldif.count) throw new Error(`re-import: ${JSON.stringify(r.counts)}`);
    });
    add("engine re-import, unchanged (best of 2)", ldif.count, again, `${(search / again).toFixed(2)}× ldapsearch's rate (target ≥ 0.5)`);
  } finally {
    await engine.close();
    await slapd.stop();
  }
  return rows;
}

export async function bench(serverUrl: string, dir: string): Promise<void> {
  const n = Number(process.env.BENCH_LDAP_SIZE ?? 10000);
  mkdirSync(dir, { recursive: true });
  const hrCsv = join(dir, "hr.csv");
  await writeHrCsv(hrCsv, people(n, 42));
  const rows = [...(await compare(serverUrl, dir, hrCsv, true)), ...(await compare(serverUrl, dir, hrCsv, false))];
  printRows(`LDAP (OpenLDAP slapd, examples/hr-to-openldap people), ${n} people in HR`, rows);
}
