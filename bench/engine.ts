// Engine benchmark at one size: full import, full sync (projection + provisioning), export to CSV,
// the confirming import, and a one-person delta, beside the raw floor of COPY + upsert.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { openEngine } from "../src/engine/index.ts";
import { openDatabase } from "../src/store/index.ts";
import { standardConfig } from "../test/engine/builders.ts";
import { people, writeHrCsv } from "./hr-data.ts";
import { freshDatabase, peakRssMb, timed, type Row } from "./report.ts";

export async function engineBench(serverUrl: string, n: number, dir: string): Promise<Row[]> {
  mkdirSync(dir, { recursive: true });
  const hrPath = join(dir, "hr.csv");
  await writeHrCsv(hrPath, people(n, 42));
  const url = await freshDatabase(serverUrl, `idsync_bench_${n}`);
  const db = await openDatabase({ url });
  const engine = await openEngine({ database: db });
  const rows: Row[] = [];
  const add = (step: string, objects: number, seconds: number, note?: string) =>
    rows.push({ step, objects, seconds, rate: objects / seconds, peakRssMb: peakRssMb(), note });
  try {
    await engine.apply(standardConfig(dir));
    const imp = await timed(() => engine.run("hr", "full-import"));
    add("full import (hr.csv → connector space)", imp.value.counts.adds, imp.seconds, imp.value.status);
    const sync = await timed(() => engine.run("hr", "full-sync"));
    add("full sync (join/project, flow, provision)", n, sync.seconds, `${sync.value.counts.projections} projected, ${sync.value.counts.provisions} provisioned`);
    add("  = full import + full sync", n, imp.seconds + sync.seconds, "target ≤ 10 s at 100k");
    const exp = await timed(() => engine.run("directory", "export"));
    add("export (directory.csv, atomic rewrite)", exp.value.counts.exported, exp.seconds);
    const confirm = await timed(() => engine.run("directory", "full-import"));
    add("confirming import (directory.csv)", confirm.value.counts.confirmed, confirm.seconds);
    await engine.run("directory", "delta-sync");

    // One person changes in HR.
    const text = readFileSync(hrPath, "utf8");
    const target = "E" + String(Math.floor(n / 2)).padStart(6, "0");
    const lines = text.split("\n");
    const i = lines.findIndex((l) => l.startsWith(target + ","));
    const cells = lines[i].split(",");
    cells[3] = cells[3] === "Sales" ? "Legal" : "Sales";
    lines[i] = cells.join(",");
    writeFileSync(hrPath, lines.join("\n"));
    const dImp = await timed(() => engine.run("hr", "delta-import"));
    add("delta import, 1 changed (CSV snapshot diff)", dImp.value.counts.updates, dImp.seconds, "reads the whole file");
    const dSync = await timed(() => engine.run("hr", "delta-sync"));
    add("delta sync of one changed person", 1, dSync.seconds, `${dSync.value.counts.updates} MV update; target ≤ 0.1 s`);
    const dExp = await timed(() => engine.run("directory", "export"));
    add("export of that one change", dExp.value.counts.exported, dExp.seconds);

    // The raw floor: the same CSV through COPY into a staging table, then one set-based upsert.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`create table floor_stage (employeeId text, givenName text, sn text, department text, title text, managerId text, status text, employeeType text)`);
    await client.query(`create table floor_target (anchor text primary key, attrs jsonb)`);
    const floor = await timed(async () => {
      await pipeline(createReadStream(hrPath), client.query(copyFrom(`copy floor_stage from stdin with (format csv, header true)`)));
      await client.query(
        `insert into floor_target select employeeId, to_jsonb(s) - 'employeeid' from floor_stage s
         on conflict (anchor) do update set attrs = excluded.attrs`,
      );
    });
    add("raw floor: COPY + upsert of hr.csv", n, floor.seconds, `engine import+sync is ${((imp.seconds + sync.seconds) / floor.seconds).toFixed(1)}× the floor`);
    await client.end();
  } finally {
    await engine.close();
  }
  return rows;
}
