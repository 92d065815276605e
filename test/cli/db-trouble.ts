// Shared by the "database trouble" tests: a PostgreSQL server of the test's own that can be stopped,
// started again and frozen (the shared server of the test run must never be), the real CLI run as a
// child process, and a copy of the quick start big enough that a cycle is still busy when the test
// pulls the plug.
import { execFile, spawn } from "node:child_process";
import { appendFileSync, cpSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { postgresBinDir, startPostgres, type PostgresServer } from "../harness/postgres-server.mjs";

const execFileAsync = promisify(execFile);
const bin = new URL("../../bin/idsync.js", import.meta.url).pathname;
const example = new URL("../../examples/quickstart/", import.meta.url).pathname;

export interface OwnServer extends PostgresServer {
  /** Stops the server the way a crash or a failover does (`pg_ctl stop -m immediate`); the data stays. */
  halt(): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  resume(): Promise<void>;
  /** The postmaster's pid (from postmaster.pid). */
  postmasterPid(): number;
  /** Runs one query with a short-lived connection (as postgres, in `database`, default postgres). */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
}

/** The account owning the data directory (the harness runs PostgreSQL as `postgres` when we are root). */
function ownerName(path: string): string | undefined {
  const uid = statSync(path).uid;
  if (uid === process.getuid?.()) return undefined;
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === String(uid));
  if (!line) throw new Error(`no account with uid ${uid} owns ${path}`);
  return line.split(":")[0];
}

async function pgCtl(dataDir: string, args: string[]): Promise<void> {
  const bindir = postgresBinDir();
  const pgctl = bindir ? join(bindir, "pg_ctl") : "pg_ctl";
  const runAs = ownerName(dataDir);
  const [file, argv] = runAs ? ["runuser", ["-u", runAs, "--", pgctl, ...args]] : [pgctl, args];
  await execFileAsync(file, argv, { cwd: join(dataDir, "..") });
}

export async function startOwnPostgres(): Promise<OwnServer> {
  const server = await startPostgres();
  const dataDir = join(server.dir, "data");
  return {
    ...server,
    halt: () => pgCtl(dataDir, ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30"]),
    resume: () => pgCtl(dataDir, ["start", "-D", dataDir, "-l", join(server.dir, "server.log"), "-w", "-t", "60"]),
    postmasterPid: () => Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]),
    async query<R>(sql: string, params?: unknown[], database = "postgres") {
      const u = new URL(server.url);
      u.pathname = `/${database}`;
      const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
      client.on("error", () => undefined); // the server may go away under this client on purpose
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as R[];
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** The pids of a process's children (Linux /proc): a postmaster's backends and helpers. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may contain spaces and parentheses, so parse after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) children.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return children;
}

/** The URL with a user and password, so the tests can check the password is never printed. */
export function withPassword(url: string, password = "s3cret-pw"): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

export interface CliRun {
  pid: number;
  /** Resolves when the CLI has exited. */
  done: Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>;
  kill(): void;
}

/** Runs `node bin/idsync.js ARGS` (with IDSYNC_DEBUG unset: stack traces only ever appear by mistake). */
export function idsync(args: string[], env: Record<string, string | undefined> = {}): CliRun {
  const started = Date.now();
  const childEnv: Record<string, string | undefined> = { ...process.env, IDSYNC_DEBUG: undefined, IDSYNC_DATABASE_URL: undefined, ...env };
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"], env: childEnv as NodeJS.ProcessEnv });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>((resolve) => {
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
  return { pid: child.pid!, done, kill: () => child.kill("SIGKILL") };
}

/**
 * A copy of the quick start with `people` HR rows instead of 300 (the extra ones active, reporting
 * to E000001), so a cycle takes a few seconds instead of a blink.
 */
export function quickstartCopy(root: string, people = 4000): string {
  const dir = join(root, "quickstart");
  cpSync(example, dir, { recursive: true, filter: (p) => !p.endsWith("directory.csv") });
  const departments = ["Finance", "Legal", "Sales", "Operations", "Engineering"];
  const extra: string[] = [];
  for (let n = 301; n <= people; n++) {
    const id = `E${String(n).padStart(6, "0")}`;
    extra.push(`${id},Given${n},Family${n},${departments[n % departments.length]},Specialist,E000001,active,employee`);
  }
  if (extra.length > 0) appendFileSync(join(dir, "data", "hr.csv"), extra.join("\n") + "\n");
  return dir;
}

/** Polls fn until it returns a value other than undefined (errors count as "not yet"). */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The checks every "database trouble" failure must pass: exit 1, one line, no stack, no password. */
export function assertOneClearLine(
  assert: typeof import("node:assert/strict"),
  result: { code: number | null; stderr: string },
  password: string,
): string {
  assert.equal(result.code, 1, `exit code 1 (stderr: ${result.stderr})`);
  const lines = result.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `exactly one line on stderr, got:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack frames");
  assert.doesNotMatch(result.stderr, /Unhandled 'error' event|node:internal|Error:/, "no crash");
  assert.ok(!result.stderr.includes(password), "the password is never printed");
  return lines[0];
}
