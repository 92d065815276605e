// Output for people and for scripts: every command can print JSON (-o json); text goes to stdout,
// progress and diagnostics to stderr so that piping JSON stays clean.
export type OutputFormat = "text" | "json" | "markdown" | "github" | "junit" | "csv";

export interface Output {
  format: OutputFormat;
  /** Text mode: prints the line. JSON mode: ignored (the command emits one JSON document). */
  line(text?: string): void;
  json(value: unknown): void;
  warn(text: string): void;
  progress: ((done: number, total: number | undefined, what: string) => void) | undefined;
  endProgress(): void;
}

export function createOutput(format: OutputFormat, stdout = process.stdout, stderr = process.stderr): Output {
  const tty = Boolean(stderr.isTTY) && !process.env.CI;
  let lastDraw = 0;
  let drawn = false;
  return {
    format,
    line(text = "") {
      if (format === "text") stdout.write(text + "\n");
    },
    json(value) {
      stdout.write(JSON.stringify(value, null, 2) + "\n");
    },
    warn(text) {
      stderr.write(text + "\n");
    },
    progress: tty
      ? (done, total, what) => {
          const now = Date.now();
          if (now - lastDraw < 100 && done !== total) return;
          lastDraw = now;
          drawn = true;
          const width = 30;
          const bar =
            total && total > 0 ? `[${"#".repeat(Math.round((done / total) * width)).padEnd(width, ".")}] ${done}/${total}` : `${done}`;
          stderr.write(`\r\x1b[2K${what} ${bar}`);
        }
      : undefined,
    endProgress() {
      if (drawn) stderr.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

/** A fixed-width text table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => String(c)))];
  // A loop, not Math.max(...rows): a spread of 100,000 rows overflows the stack.
  const widths = headers.map((_, i) => cells.reduce((w, r) => Math.max(w, (r[i] ?? "").length), 0));
  return cells
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd())
    .join("\n");
}
