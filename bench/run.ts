// npm run bench — engine throughput on seeded HR data against a PostgreSQL server, beside a raw
// floor (the same CSV loaded with COPY and upserted) measured in the same run.
//
//   BENCH_SIZES=10000,100000   sizes to run (default both)
//   IDSYNC_BENCH_DATABASE_URL  use this server instead of starting a throwaway one
//   BENCH_ONLY=engine|ldap|plan      run one part
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineBench } from "./engine.ts";

export interface Row {
  step: string;
  objects: number;
  seconds: number;
  rate: number;
  peakRssMb: number;
  note?: string;
}

export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export function printRows(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.log("step".padEnd(44) + "objects".padStart(9) + "seconds".padStart(10) + "obj/s".padStart(10) + "peakRSS".padStart(10) + "  note");
  for (const r of rows) {
    console.log(
      r.step.padEnd(44) +
        String(r.objects).padStart(9) +
        r.seconds.toFixed(3).padStart(10) +
        String(Math.round(r.rate)).padStart(10) +
        `${r.peakRssMb}MB`.padStart(10) +
        (r.note ? `  ${r.note}` : ""),
    );
  }
}

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
    try {
      const mod = (await import(`./${part}.ts`)) as { bench: (url: string, dir: string) => Promise<void> };
      await mod.bench(server.url, join(work, part));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") continue;
      throw e;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await server.stop();
}
