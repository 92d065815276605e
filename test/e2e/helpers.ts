// The HR → OpenLDAP example (examples/hr-to-openldap) against a real slapd and a real PostgreSQL.
//
// startExample() copies the example (and the quick start's hr.csv it reads) into a temp dir, points
// directory.yaml at a fresh harness slapd, gives the engine a fresh database, and returns what the
// tests need: the engine, the HR file to edit, and ldapsearch through OpenLDAP's own client.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { loadConfigDirectory } from "../../src/config/index.ts";
import type { ConfigSet } from "../../src/config/model.ts";
import { normalizeDN } from "../../src/connectors/ldap/index.ts";
import { escapeDNComponent } from "../../src/expr/dn.ts";
import { openEngine, type CycleResult, type Engine } from "../../src/engine/index.ts";
import { openDatabase } from "../../src/store/index.ts";
import { departmentsCsv, departmentsOf } from "../../examples/hr-to-openldap/departments.ts";
import { startSlapd, type Slapd } from "../harness/slapd.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";

const EXAMPLES = new URL("../../examples/", import.meta.url).pathname;
export const HR_COLUMNS = ["employeeId", "givenName", "sn", "department", "title", "managerId", "status", "employeeType"] as const;
export type HrRow = Record<(typeof HR_COLUMNS)[number], string>;

export const PEOPLE = "ou=people,dc=example,dc=org";
export const GROUPS = "ou=groups,dc=example,dc=org";

/** The DN the example's rule gives a person (the expression, computed the same way in TypeScript). */
export function personDN(r: Pick<HrRow, "givenName" | "sn" | "employeeId">): string {
  return `cn=${escapeDNComponent(`${r.givenName} ${r.sn} (${r.employeeId})`)},${PEOPLE}`;
}

export function groupDN(department: string): string {
  return `cn=${escapeDNComponent(department)},${GROUPS}`;
}


export interface LdapEntry {
  dn: string;
  /** Attribute names lower-cased; base64 values decoded as UTF-8. */
  attrs: Map<string, string[]>;
  get(name: string): string | undefined;
  all(name: string): string[];
}

export interface Example {
  dir: string;
  /** The example's configuration directory (temp copy). */
  config: string;
  slapd: Slapd;
  database: TestDatabase;
  engine: Engine;
  /** The configuration as applied (the directory MA points at this test's slapd). */
  configSet: ConfigSet;
  hr(): HrRow[];
  /** Rewrites hr.csv, and departments.csv from it, as HR's next export would look. */
  writeHr(rows: HrRow[]): void;
  cycle(): Promise<CycleResult>;
  /** ldapsearch (OpenLDAP's client, as the rootdn) under a base; every entry with its attributes. */
  search(base: string, filter: string, attrs?: string[]): Promise<LdapEntry[]>;
  /** Entries keyed by normalized DN. */
  byDN(entries: LdapEntry[]): Map<string, LdapEntry>;
  close(): Promise<void>;
}

/**
 * A temp copy of an HR example (`name`) and the quick start's hr.csv it reads, with the HR file's
 * reader and writer (the writer also remakes data/departments.csv, as HR's next export would).
 */
export function copyHrExample(name: string): { dir: string; config: string; readHr(): HrRow[]; writeHr(rows: HrRow[]): void } {
  const dir = mkdtempSync(join(tmpdir(), `idsync-${name}-`));
  cpSync(join(EXAMPLES, name), join(dir, name), { recursive: true, filter: (p) => !p.endsWith(".md") });
  cpSync(join(EXAMPLES, "quickstart", "data", "hr.csv"), join(dir, "quickstart", "data", "hr.csv"));
  const config = join(dir, name);
  const hrPath = join(dir, "quickstart", "data", "hr.csv");
  const departmentsPath = join(config, "data", "departments.csv");
  const readHr = (): HrRow[] => parse(readFileSync(hrPath, "utf8"), { columns: true, skip_empty_lines: true }) as HrRow[];
  const writeHr = (rows: HrRow[]) => {
    const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const text = [HR_COLUMNS.join(","), ...rows.map((r) => HR_COLUMNS.map((c) => cell(r[c] ?? "")).join(","))].join("\n") + "\n";
    writeFileSync(hrPath, text);
    writeFileSync(departmentsPath, departmentsCsv(departmentsOf(text)));
  };
  // The examples read the quick start's HR file, outside their own folder: their READMEs run the
  // CLI with IDSYNC_ALLOW_PATHS for that folder, and so do these tests' CLI processes (they inherit it).
  process.env.IDSYNC_ALLOW_PATHS = join(dir, "quickstart", "data");
  return { dir, config, readHr, writeHr };
}

export async function startExample(opts: { people?: number; slapd?: Slapd } = {}): Promise<Example> {
  const { dir, config, readHr, writeHr } = copyHrExample("hr-to-openldap");

  const slapd = opts.slapd ?? (await startSlapd());
  const database = await testDatabase("e2e");
  const yaml = join(config, "directory.yaml");
  writeFileSync(yaml, readFileSync(yaml, "utf8").replaceAll("ldap://127.0.0.1:3890", slapd.url));

  if (opts.people !== undefined) writeHr(readHr().slice(0, opts.people));

  const loaded = await loadConfigDirectory(config);
  if (!loaded.config) throw new Error(`the example does not load: ${JSON.stringify(loaded.errors)}`);
  const engine = await openEngine({
    database: await openDatabase({ url: database.url }),
    secrets: async (name, key) => {
      if (name === "ldap-bind" && key === "password") return slapd.password;
      throw new Error(`no secret ${name}/${key}`);
    },
  });
  await engine.apply(loaded.config);

  const search: Example["search"] = async (base, filter, attrs = []) => {
    const text = await slapd.cli("ldapsearch", ["-LLL", "-b", base, filter, ...attrs]);
    return parseLdif(text);
  };
  return {
    dir,
    config,
    slapd,
    database,
    engine,
    configSet: loaded.config,
    hr: readHr,
    writeHr,
    cycle: () => engine.cycle(),
    search,
    byDN: (entries) => new Map(entries.map((e) => [normalizeDN(e.dn), e])),
    async close() {
      await engine.close();
      await database.drop();
      if (!opts.slapd) await slapd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `ldapsearch -LLL -o ldif-wrap=no` output → entries. */
export function parseLdif(text: string): LdapEntry[] {
  const out: LdapEntry[] = [];
  for (const block of text.split(/\n\n+/)) {
    const lines = block.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    if (lines.length === 0) continue;
    let dn = "";
    const attrs = new Map<string, string[]>();
    for (const line of lines) {
      const m = /^([^:]+)(::?) ?(.*)$/.exec(line);
      if (!m) continue;
      const value = m[2] === "::" ? Buffer.from(m[3], "base64").toString("utf8") : m[3];
      const name = m[1].toLowerCase();
      if (name === "dn") dn = value;
      else attrs.set(name, [...(attrs.get(name) ?? []), value]);
    }
    out.push({ dn, attrs, get: (n) => attrs.get(n.toLowerCase())?.[0], all: (n) => attrs.get(n.toLowerCase()) ?? [] });
  }
  return out;
}

/** Counts of all runs of a cycle, summed. */
export function totals(result: CycleResult): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of result.runs) for (const [k, v] of Object.entries(r.counts)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

/** Summed counts of one MA's runs of one profile in a cycle. */
export function countsOf(result: CycleResult, ma: string, profile: string): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of result.runs.filter((x) => x.ma === ma && x.profile === profile)) {
    for (const [k, v] of Object.entries(r.counts)) sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}

export const inScope = (r: HrRow) => r.status === "active" || r.status === "leave";
