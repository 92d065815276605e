// The real `idsync` command line as a child process, for tests about processes: concurrent runs,
// kill -9, exit codes and what a second process prints.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";

export const BIN = new URL("../../bin/idsync.js", import.meta.url).pathname;
const QUICKSTART = new URL("../../examples/quickstart/", import.meta.url).pathname;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `idsync ARGS`; with killAfterMs, SIGKILLs it then (the exit code is then null). */
export function idsync(
  args: string[],
  opts: { killAfterMs?: number; env?: NodeJS.ProcessEnv; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    opts.onSpawn?.(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    if (process.env.DEBUG_TEST) {
      child.stdout.pipe(process.stdout);
      child.stderr.pipe(process.stderr);
    }
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A copy of the quick start (without a directory.csv from an earlier run) under root. */
export function copyQuickstart(root: string): string {
  const dir = join(root, "quickstart");
  cpSync(QUICKSTART, dir, { recursive: true, filter: (p) => !p.endsWith("directory.csv") });
  return dir;
}
