// One process at a time on an embedded database. PGlite has no postmaster to refuse a second
// process: two processes that open one data directory both write to it and corrupt it (verified:
// both open, both insert, neither sees the other). So the directory carries a lock file naming its
// holder; a second process waits for it or says who holds it. A holder killed with kill -9 leaves
// the file behind; it is stale when no live process of that pid and start time exists on this host.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LockBusyError } from "./lock.ts";

const FILE = "idsync.lock";
const POLL_MS = 250;

interface LockFile {
  pid: number;
  host: string;
  /** The process's start time (/proc/<pid>/stat field 22) when known: a reused pid is not the holder. */
  start?: string;
  since: string;
}

export interface EmbeddedLock {
  release(): void;
}

export async function lockEmbeddedDirectory(dataDir: string, waitMs = 0): Promise<EmbeddedLock> {
  const path = join(dataDir, FILE);
  const deadline = Date.now() + Math.max(0, waitMs);
  for (;;) {
    const mine: LockFile = { pid: process.pid, host: hostname(), start: startTimeOf(process.pid), since: new Date().toISOString() };
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, JSON.stringify(mine) + "\n");
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener("exit", release);
        try {
          if (readHolder(path)?.pid === process.pid) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      // A process that exits without closing (an uncaught error) must not leave its lock behind.
      process.on("exit", release);
      return { release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new Error(`${path}: cannot create the lock file: ${(e as Error).message}`);
    }
    const holder = readHolder(path);
    if (!holder || isStale(holder)) {
      try {
        unlinkSync(path); // a dead holder's (or a half-written) file
      } catch {
        // someone else removed it first
      }
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockBusyError(
        "embedded",
        `the embedded database in ${dataDir} is in use by idsync (pid ${holder.pid} on ${holder.host}) since ${holder.since}; ` +
          `one process at a time can use it (use a PostgreSQL server with --database to run several)`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}

function readHolder(path: string): LockFile | undefined {
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as LockFile;
    return typeof v.pid === "number" && typeof v.host === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

function isStale(h: LockFile): boolean {
  if (h.host !== hostname()) return false; // a process elsewhere (a shared volume): cannot tell, assume alive
  if (h.pid === process.pid) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
  const start = startTimeOf(h.pid);
  return h.start !== undefined && start !== undefined && start !== h.start;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces) start behind its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
