// Shared by the benchmark parts: a row of figures, timing, peak RSS, the printed table.
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

