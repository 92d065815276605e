// npm run bench — engine throughput on seeded HR data against a PostgreSQL server, beside a raw
// floor (the same CSV loaded with COPY and upserted) measured in the same run.
//
//   BENCH_SIZES=10000,100000   sizes to run (default both)
//   IDSYNC_BENCH_DATABASE_URL  use this server instead of starting a throwaway one
//   BENCH_ONLY=engine|ldap|plan      run one part
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

const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const only = process.env.BENCH_ONLY;
const server = await serverUrl();
const work = mkdtempSync(join(tmpdir(), "idsync-bench-"));
try {
  if (!only || only === "engine") {
    for (const n of sizes) printRows(`engine, ${n} people (PostgreSQL server)`, await engineBench(server.url, n, join(work, `e${n}`)));
  }
  for (const part of ["ldap", "plan"] as const) {
    if (only && only !== part) continue;
    // Parts import ./report.ts, never this file (a cycle through a top-level await would deadlock).
    const file = new URL(`./${part}.ts`, import.meta.url);
    if (!existsSync(file)) continue;
    const mod = (await import(file.href)) as { bench: (url: string, dir: string) => Promise<void> };
    await mod.bench(server.url, join(work, part));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await server.stop();
}
