// npm run bench — engine throughput on seeded HR data against a PostgreSQL server, beside a raw
// floor (the same CSV loaded with COPY and upserted) measured in the same run.
//
//   BENCH_SIZES=10000,100000   sizes to run (default both)
//   IDSYNC_BENCH_DATABASE_URL  use this server instead of starting a throwaway one
//   BENCH_ONLY=engine|ldap|plan|ad   run one part (ad: the Active Directory connector against a
//                              Samba AD DC; in the default run only where Samba is installed)
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineBench } from "./engine.ts";
import { printRows } from "./report.ts";

export { peakRssMb, printRows, timed, type Row } from "./report.ts";

async function serverUrl(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.IDSYNC_BENCH_DATABASE_URL) return { url: process.env.IDSYNC_BENCH_DATABASE_URL, stop: async () => {} };
  const { startPostgres } = await import("../test/harness/postgres.ts");
  return startPostgres();
}

/** Why the ad part cannot run here, or undefined when it can. */
async function adUnavailable(): Promise<string | undefined> {
  const { sambaAvailable } = await import("../test/harness/samba.ts");
  if (!sambaAvailable()) return "Samba AD DC is not installed (apt-get install -y --no-install-recommends samba samba-ad-dc samba-ad-provision, or scripts/ensure-deps.sh as root)";
  if (process.getuid?.() !== 0) return "Samba's LDAP ports 389/636 need root";
  return undefined;
}

const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const only = process.env.BENCH_ONLY;
// PostgreSQL only for the parts that use it (the ad part talks to the connector alone).
let server: { url: string; stop: () => Promise<void> } | undefined;
const database = async () => (server ??= await serverUrl()).url;
const work = mkdtempSync(join(tmpdir(), "idsync-bench-"));
try {
  if (!only || only === "engine") {
    for (const n of sizes) printRows(`engine, ${n} people (PostgreSQL server)`, await engineBench(await database(), n, join(work, `e${n}`)));
  }
  for (const part of ["ldap", "plan", "ad"] as const) {
    if (only && only !== part) continue;
    // Parts import ./report.ts, never this file (a cycle through a top-level await would deadlock).
    const file = new URL(`./${part}.ts`, import.meta.url);
    if (!existsSync(file)) continue;
    if (part === "ad") {
      const why = await adUnavailable();
      if (why) {
        if (only) throw new Error(`BENCH_ONLY=ad: ${why}`);
        console.log(`\nActive Directory: skipped, ${why}`);
        continue;
      }
    }
    const mod = (await import(file.href)) as { bench: (url: string, dir: string) => Promise<void> };
    await mod.bench(part === "ad" ? "" : await database(), join(work, part));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await server?.stop();
}
