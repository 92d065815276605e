// The HR → Active Directory example (examples/hr-to-active-directory) against a real Samba AD DC
// and a real PostgreSQL.
//
// startAdExample() copies the example (and the quick start's hr.csv it reads) into a temp dir,
// points directory.yaml at a fresh harness DC (its own loopback address), makes the example's OUs
// with OpenLDAP's ldapmodify, gives the engine a fresh database, and returns the engine, the HR
// file to edit, and ldapsearch over LDAPS (a client nobody here wrote) to check the result.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigDirectory } from "../../src/config/index.ts";
import type { ConfigSet, ManagementAgent, ObjectTypeSpec } from "../../src/config/model.ts";
import { createActiveDirectoryConnector, guidToString } from "../../src/connectors/ad/index.ts";
import type { Connector } from "../../src/connectors/types.ts";
import { openEngine, type CycleResult, type Engine } from "../../src/engine/index.ts";
import { openDatabase } from "../../src/store/index.ts";
import { startDomainController, type DomainController } from "../harness/samba.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { copyHrExample, countsOf, HR_COLUMNS, parseLdif, type HrRow, type LdapEntry } from "../e2e/helpers.ts";

export { countsOf, HR_COLUMNS, type HrRow, type LdapEntry };

export const BASE = "DC=sync,DC=test";
export const ROOT = `OU=idsync,${BASE}`;
export const PEOPLE = `OU=People,${ROOT}`;
export const GROUPS = `OU=Groups,${ROOT}`;
export const DISABLED = `OU=Disabled,${ROOT}`;
/** What every test-provisioned user's initial password is (the example's users get random ones otherwise). */
export const INITIAL_PASSWORD = "Init!al-Passw0rd-2026";

export interface AdExample {
  dir: string;
  config: string;
  dc: DomainController;
  database: TestDatabase;
  engine: Engine;
  configSet: ConfigSet;
  /** The Secrets the engine resolves, "name/key" → value (ad-bind/password is the Administrator's). */
  secrets: Map<string, string>;
  hr(): HrRow[];
  writeHr(rows: HrRow[]): void;
  cycle(full?: boolean): Promise<CycleResult>;
  /** ldapsearch over LDAPS as the Administrator, subtree under `base`; `#` lines ignored. */
  search(base: string, filter: string, attrs?: string[]): Promise<LdapEntry[]>;
  close(): Promise<void>;
}

export interface AdExampleOptions {
  people?: number;
  /** Rewrites directory.yaml / rules.yaml text before loading (a test's variation of the example). */
  edit?: (file: string, text: string) => string;
  /** Give new users this initial password (default INITIAL_PASSWORD); undefined: random ones. */
  initialPassword?: string | null;
  /** The embedded database (PGlite, in the temp dir) instead of a PostgreSQL test database. */
  embedded?: boolean;
}

export async function startAdExample(opts: AdExampleOptions = {}): Promise<AdExample> {
  const { dir, config, readHr, writeHr } = copyHrExample("hr-to-active-directory");
  const dc = await startDomainController();
  await dc.ldapmodify(readFileSync(join(config, "ous.ldif"), "utf8").replace(/^(dn: .*)$/gm, "$1\nchangetype: add"));
  const database = await testDatabase("ad");
  for (const file of ["directory.yaml", "rules.yaml"]) {
    const path = join(config, file);
    let text = readFileSync(path, "utf8").replace("ldaps://127.0.0.2:636", dc.url).replace("caFile: ca.pem", `caFile: ${dc.caFile}`);
    if (opts.edit) text = opts.edit(file, text);
    writeFileSync(path, text);
  }

  writeHr(opts.people !== undefined ? readHr().slice(0, opts.people) : readHr());

  const loaded = await loadConfigDirectory(config);
  if (!loaded.config) throw new Error(`the example does not load: ${JSON.stringify(loaded.errors)}`);
  const password = opts.initialPassword === undefined ? INITIAL_PASSWORD : opts.initialPassword ?? undefined;
  const secrets = new Map([["ad-bind/password", dc.adminPassword]]);
  const engine = await openEngine({
    database: await openDatabase(opts.embedded ? { dataDir: join(dir, "state") } : { url: database.url }),
    secrets: async (name, key) => {
      const v = secrets.get(`${name}/${key}`);
      if (v === undefined) throw new Error(`no secret ${name}/${key}`);
      return v;
    },
    initialPassword: password === undefined ? undefined : () => password,
  });
  await engine.apply(loaded.config);

  return {
    dir,
    config,
    dc,
    database,
    engine,
    configSet: loaded.config,
    secrets,
    hr: readHr,
    writeHr,
    cycle: (full = false) => engine.cycle({ full }),
    async search(base, filter, attrs = []) {
      const text = await dc.ldapsearch(["-b", base, "-E", "pr=1000/noprompt", filter, ...attrs]);
      return parseLdif(text.split("\n").filter((l) => !l.startsWith("#")).join("\n")).filter((e) => e.dn !== "");
    },
    async close() {
      await engine.close();
      await database.drop();
      await dc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** objectGUID as ldapsearch prints it (base64 of the 16 bytes, decoded as UTF-8 by parseLdif) is useless: read it raw. */
export async function guidOf(ex: AdExample, dn: string): Promise<string> {
  const text = await ex.dc.ldapsearch(["-b", dn, "-s", "base", "(objectClass=*)", "objectGUID"]);
  const line = text.split("\n").find((l) => l.startsWith("objectGUID::"));
  if (!line) throw new Error(`${dn} has no objectGUID`);
  return guidToString(Buffer.from(line.slice("objectGUID::".length).trim(), "base64"));
}

export function describeRuns(result: CycleResult): string {
  const brief = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== 0));
  return JSON.stringify(result.runs.map((r) => [r.ma, r.profile, r.status, r.message, brief(r.counts as unknown as Record<string, number>), r.errors.slice(0, 3)]));
}

/** The AD connector on its own against a harness DC, as the Administrator unless told otherwise. */
export function adConnector(
  dc: DomainController,
  opts: { containers: string[]; objectTypes: ObjectTypeSpec[]; bindDN?: string; password?: string; url?: string; startTLS?: boolean },
): Connector {
  const ma = {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name: "ad" },
    spec: {
      connector: {
        type: "activeDirectory",
        activeDirectory: {
          url: opts.url ?? dc.url,
          startTLS: opts.startTLS,
          bindDN: opts.bindDN ?? dc.adminDN,
          passwordSecretRef: { name: "ad", key: "password" },
          baseDN: dc.baseDN,
          containers: opts.containers,
          caFile: dc.caFile,
        },
      },
      objectTypes: opts.objectTypes,
    },
  } as ManagementAgent;
  return createActiveDirectoryConnector(ma, { baseDir: ".", secret: async () => opts.password ?? dc.adminPassword });
}
