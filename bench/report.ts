// Shared by the benchmark parts: a row of figures, timing, peak RSS, the printed table, and a fresh
// database per part. Parts import this file, never run.ts: run.ts imports them while its own
// top-level await is pending, so importing it back would deadlock the module graph.
import pg from "pg";

export interface Row {
  step: string;
  objects: number;
  seconds: number;
  /** objects per second; omitted where a rate means nothing (a plan) */
  rate?: number;
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
        (r.rate === undefined ? "" : String(Math.round(r.rate))).padStart(10) +
        `${r.peakRssMb}MB`.padStart(10) +
        (r.note ? `  ${r.note}` : ""),
    );
  }
}


/** Drops and creates a database on the benchmark's server; returns its URL. */
export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}
