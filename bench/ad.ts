// Active Directory benchmark, on one throw-away Samba AD DC (test/harness/samba-dc.mjs, with the
// harness's default smb.conf: ldb:nosync = true), the AD connector called directly:
//
// - export: 5,000 users added by the connector (sAMAccountName, userPrincipalName, givenName, sn,
//   displayName, mail, accountEnabled true: so with the random initial password, userAccountControl
//   and pwdLastSet 0 in the add, and the objectGUID read back) into one OU, beside OpenLDAP's
//   ldapadd over LDAPS adding 5,000 comparable users (same attributes, a unicodePwd, UAC 512,
//   pwdLastSet 0) into a second OU, as the same account;
// - full import: the connector's fullImport of the 5,000 (objectGUID anchors) beside a paged
//   ldapsearch of the same OU, filter and attributes;
// - delta import: 50 users' title changed with one ldapmodify, then deltaImport(watermark), the
//   watermark taken from a deltaImport(undefined) snapshot run before; in DirSync (auto) and usn mode.
// Targets: export ≥ 0.8× ldapadd's rate, import ≥ 0.5× ldapsearch's rate, a 50-change delta ≤ 1 s.
// ldapadd runs first, into the emptier directory (if anything, that favours it). "DC CPU" is the
// samba process's CPU time over the step's wall time: near 100% means the DC is the bottleneck.
//
//   BENCH_AD_SIZE=5000      users per OU (default 5000)
//   BENCH_ONLY=ad           run only this part (npm run bench); the default run includes it only
//                           where Samba is installed (sambaAvailable() of the harness)
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ManagementAgent } from "../src/config/model.ts";
import { createActiveDirectoryConnector, randomInitialPassword } from "../src/connectors/ad/index.ts";
import type { Connector, ExportOperation } from "../src/connectors/types.ts";
import { sambaVersion, startDomainController, type DomainController } from "../test/harness/samba.ts";

import { peakRssMb, printRows, timed, type Row } from "./report.ts";

const CHANGES = 50;
// The attributes the connector declares for a user; the ldapsearch floor asks for the same ones.
const ATTRIBUTES = ["objectGUID", "sAMAccountName", "userPrincipalName", "givenName", "sn", "displayName", "mail", "title"];

/** The MA the connector is made from: users under `container`, anchored by objectGUID. */
function managementAgent(dc: DomainController, container: string, deltaMode: "auto" | "usn" = "auto"): ManagementAgent {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name: "bench-ad" },
    spec: {
      connector: {
        type: "activeDirectory",
        activeDirectory: {
          url: dc.url,
          bindDN: dc.adminDN,
          passwordSecretRef: { name: "ad-bind", key: "password" },
          baseDN: dc.baseDN,
          containers: [container],
          caFile: dc.caFile,
          deltaMode,
        },
      },
      objectTypes: [
        {
          name: "user",
          anchor: ["objectGUID"],
          attributes: [...ATTRIBUTES.map((name) => ({ name })), { name: "accountEnabled", type: "boolean" }],
        },
      ],
    },
  };
}

function connector(dc: DomainController, container: string, deltaMode: "auto" | "usn" = "auto"): Connector {
  return createActiveDirectoryConnector(managementAgent(dc, container, deltaMode), {
    baseDir: process.cwd(),
    secret: async (name, key) => {
      if (name === "ad-bind" && key === "password") return dc.adminPassword;
      throw new Error(`no secret ${name}/${key}`);
    },
  });
}

interface User {
  cn: string;
  sam: string;
  givenName: string;
  sn: string;
}

const GIVEN = ["Anna", "Ben", "Chloe", "David", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas"];
const FAMILY = ["Smith", "Muller", "Garcia", "Nguyen", "Kowalski", "Rossi", "Dubois", "Jensen", "Yilmaz", "Kim"];

/** n users whose account names start with `prefix` (unique in the domain: sAMAccountName and UPN are). */
function users(n: number, prefix: string): User[] {
  return Array.from({ length: n }, (_, i) => {
    const givenName = GIVEN[i % GIVEN.length];
    const sn = FAMILY[Math.floor(i / GIVEN.length) % FAMILY.length];
    const sam = `${prefix}${String(i + 1).padStart(5, "0")}`;
    return { cn: `${givenName} ${sn} (${sam})`, sam, givenName, sn };
  });
}

const attrsOf = (u: User) => ({
  sAMAccountName: u.sam,
  userPrincipalName: `${u.sam}@sync.test`,
  givenName: u.givenName,
  sn: u.sn,
  displayName: `${u.givenName} ${u.sn}`,
  mail: `${u.sam}@sync.test`,
});

/** ldapadd's LDIF: the same attributes, and what the connector adds itself (password, UAC, pwdLastSet). */
function addLdif(list: User[], ou: string): string {
  return list
    .map((u) => {
      const lines = [`dn: CN=${u.cn},${ou}`, "objectClass: top", "objectClass: person", "objectClass: organizationalPerson", "objectClass: user"];
      for (const [k, v] of Object.entries(attrsOf(u))) lines.push(`${k}: ${v}`);
      lines.push(`unicodePwd:: ${Buffer.from(`"${randomInitialPassword()}"`, "utf16le").toString("base64")}`);
      lines.push("userAccountControl: 512", "pwdLastSet: 0");
      return lines.join("\n");
    })
    .join("\n\n") + "\n";
}

/** Runs an OpenLDAP client tool against the DC over LDAPS, its output discarded. */
function tool(dc: DomainController, cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, ["-x", "-H", dc.url, "-D", dc.adminDN, "-w", dc.adminPassword, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LDAPTLS_CACERT: dc.caFile, LDAPTLS_REQCERT: "demand" },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${stderr.slice(0, 500)}`))));
  });
}

/** CPU seconds samba (the DC, one process: -M single) has used so far; NaN without /proc. */
function dcCpuSeconds(dc: DomainController): number {
  try {
    const fields = readFileSync(`/proc/${dc.pid()}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** Runs fn and says how busy the DC was meanwhile: "DC CPU 97%". */
async function withDcCpu<T>(dc: DomainController, fn: () => Promise<{ value: T; seconds: number }>): Promise<{ value: T; seconds: number; dc: string }> {
  const before = dcCpuSeconds(dc);
  const r = await fn();
  const used = dcCpuSeconds(dc) - before;
  return { ...r, dc: Number.isNaN(used) ? "" : `DC CPU ${Math.round((100 * used) / r.seconds)}%` };
}

/** Best (shortest) of `times` timed runs. */
async function best<T>(times: number, fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  let min: { value: T; seconds: number } | undefined;
  for (let i = 0; i < times; i++) {
    const t = await timed(fn);
    if (!min || t.seconds < min.seconds) min = t;
  }
  return min!;
}

async function countImported(c: Connector): Promise<number> {
  let n = 0;
  for await (const b of c.fullImport()) {
    if (b.problems?.length) throw new Error(`full import: ${JSON.stringify(b.problems.slice(0, 3))}`);
    for (const o of b.items) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(o.anchor)) throw new Error(`full import: ${o.dn} has anchor ${o.anchor}`);
      n++;
    }
  }
  return n;
}

/** Consumes a delta import: its mode, upserts, deletes and the next watermark. */
async function consume(c: Connector, watermark: string | undefined): Promise<{ mode: string; upserts: number; deletes: number; watermark?: string }> {
  const d = await c.deltaImport(watermark);
  let upserts = 0;
  let deletes = 0;
  for await (const b of d.batches) {
    if (b.problems?.length) throw new Error(`delta import: ${JSON.stringify(b.problems.slice(0, 3))}`);
    for (const ch of b.items) ch.kind === "upsert" ? upserts++ : deletes++;
  }
  return { mode: d.mode, upserts, deletes, watermark: await d.watermark() };
}

/** One ldapmodify (one process) changing `title` of the given users. */
function titleChanges(list: User[], ou: string, title: string): string {
  return list.map((u) => `dn: CN=${u.cn},${ou}\nchangetype: modify\nreplace: title\ntitle: ${title}\n-\n`).join("\n");
}

export async function bench(_serverUrl: string, dir: string): Promise<void> {
  const n = Number(process.env.BENCH_AD_SIZE ?? 5000);
  mkdirSync(dir, { recursive: true });
  const rows: Row[] = [];
  const add = (step: string, objects: number, seconds: number, note?: string, rate = true) =>
    rows.push({ step, objects, seconds, rate: rate ? objects / seconds : undefined, peakRssMb: peakRssMb(), note });
  const dc = await startDomainController();
  const ouConnector = `OU=BenchConnector,${dc.baseDN}`;
  const ouLdapadd = `OU=BenchLdapadd,${dc.baseDN}`;
  let main: Connector | undefined;
  try {
    await dc.ldapmodify([ouConnector, ouLdapadd].map((ou) => `dn: ${ou}\nchangetype: add\nobjectClass: organizationalUnit\n`).join("\n"));
    const mine = users(n, "bc");

    // Export: the floor first (ldapadd over LDAPS into its own OU), then the connector.
    const ldifFile = join(dir, "users.ldif");
    writeFileSync(ldifFile, addLdif(users(n, "bl"), ouLdapadd));
    const floor = await withDcCpu(dc, () => timed(() => tool(dc, "ldapadd", ["-f", ldifFile])));
    const ldapadd = floor.seconds;
    add("ldapadd over LDAPS (floor)", n, ldapadd, `password, UAC 512, pwdLastSet 0 in the add; ${floor.dc}`);

    main = connector(dc, ouConnector);
    const ops: ExportOperation[] = mine.map((u, i) => ({
      op: "add",
      id: String(i + 1),
      objectType: "user",
      dn: `CN=${u.cn},${ouConnector}`,
      attrs: { ...attrsOf(u), accountEnabled: true },
    }));
    const exp = await withDcCpu(dc, () => timed(() => main!.export(ops)));
    const failed = exp.value.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`export: ${failed.length} failed, e.g. ${JSON.stringify(failed.slice(0, 3))}`);
    const anchors = exp.value.filter((r) => r.ok && r.anchor).length;
    add("connector export (adds, objectGUID read)", n, exp.seconds, `${(ldapadd / exp.seconds).toFixed(2)}× ldapadd's rate (target ≥ 0.8); ${anchors} anchors; ${exp.dc}`);

    // Full import: paged ldapsearch of the same OU, filter and attributes, then the connector.
    const searchArgs = ["-LLL", "-E", "pr=1000/noprompt", "-b", ouConnector, "(&(objectClass=top)(objectClass=person)(objectClass=organizationalPerson)(objectClass=user)(!(objectClass=computer)))", ...ATTRIBUTES, "userAccountControl"];
    const search = await best(3, () => tool(dc, "ldapsearch", searchArgs));
    add("ldapsearch paged (floor, best of 3)", n, search.seconds);
    const imp = await best(3, () => countImported(main!));
    if (imp.value !== n) throw new Error(`full import read ${imp.value} users, expected ${n}`);
    add("connector full import (best of 3)", imp.value, imp.seconds, `${(search.seconds / imp.seconds).toFixed(2)}× ldapsearch's rate (target ≥ 0.5)`);

    // Delta imports: a snapshot for the watermark, 50 titles changed with one ldapmodify, the delta.
    for (const mode of ["auto", "usn"] as const) {
      const c: Connector = mode === "auto" ? main : connector(dc, ouConnector, "usn");
      try {
        const snap = await timed(() => consume(c, undefined));
        if (snap.value.mode !== "snapshot" || snap.value.upserts !== n) throw new Error(`${mode} snapshot: ${JSON.stringify(snap.value)}`);
        add(`(prep) delta snapshot, deltaMode ${mode}`, n, snap.seconds, `watermark ${snap.value.watermark?.split(":")[0]}; not compared`);
        const changed = mine.slice(mode === "auto" ? 0 : CHANGES, mode === "auto" ? CHANGES : 2 * CHANGES);
        await dc.ldapmodify(titleChanges(changed, ouConnector, `Bench ${mode}`));
        const delta = await timed(() => consume(c, snap.value.watermark));
        const d = delta.value;
        const label = d.watermark?.startsWith("dirsync:") ? "DirSync" : "usn";
        const exact = d.mode === "changes" && d.upserts === CHANGES && d.deletes === 0;
        add(
          `connector delta, ${CHANGES} changes (${label})`,
          d.upserts + d.deletes,
          delta.seconds,
          `${delta.seconds <= 1 ? "within" : "OVER"} target ≤ 1 s; ${exact ? `exactly ${CHANGES} upserts` : `WRONG: ${d.mode}, ${d.upserts} upserts, ${d.deletes} deletes (expected ${CHANGES} upserts)`}`,
          false,
        );
      } finally {
        if (c !== main) await c.close();
      }
    }
  } finally {
    await main?.close();
    await dc.stop();
  }
  printRows(`Active Directory (Samba ${sambaVersion()} AD DC, the connector called directly), ${n} users per OU`, rows);
}
