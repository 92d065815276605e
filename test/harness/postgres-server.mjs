// A throw-away PostgreSQL server in a temp dir on a random loopback port.
//
// Plain JavaScript on purpose: scripts/test.mjs starts one server for a whole `npm test` run before
// tsx is in play, and test/harness/postgres.ts starts one per test process when no server was
// handed down. Both use this file, so there is one way to start and stop a test server.
//
// The server is tuned for speed, not durability (fsync, synchronous_commit and full_page_writes
// off): the data is gone at the end anyway. Its unix socket lives in the temp dir, so it never
// collides with a system cluster in /var/run/postgresql. Authentication is `trust`, which is safe
// only because it listens on 127.0.0.1 and in a 0700 directory.
//
// PostgreSQL refuses to run as root, so as root initdb and pg_ctl run through `runuser` as the
// `postgres` account (created by Debian's package) or, failing that, a system account we create.
// pg_ctl daemonizes the postmaster; an exit hook (and SIGINT/SIGTERM) stops it synchronously and
// removes the temp dir, so a test process that ends in any ordinary way leaves nothing behind.
import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The account PostgreSQL runs as when we are root, if Debian's `postgres` does not exist. */
const FALLBACK_USER = "idsync-test";

/** @type {Set<{dataDir: string; dir: string; runAs: string | undefined; bindir: string}>} */
const live = new Set();
let hooksInstalled = false;

/**
 * The directory holding initdb, pg_ctl and postgres: $PG_BINDIR, else the newest
 * /usr/lib/postgresql/<version>/bin (Debian keeps the server binaries off PATH), else PATH.
 * @returns {string} a directory, or "" to mean "look up on PATH"
 */
export function postgresBinDir() {
  const fromEnv = process.env.PG_BINDIR;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, "initdb"))) throw new Error(`PG_BINDIR=${fromEnv} has no initdb`);
    return fromEnv;
  }
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], "bin");
  }
  return "";
}

/** @param {string} bindir @param {string} tool */
function tool(bindir, tool) {
  return bindir ? join(bindir, tool) : tool;
}

/** The account to run PostgreSQL as, or undefined when we are not root (we run it ourselves). */
function serverAccount() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", FALLBACK_USER]) {
    const uid = accountIds(name);
    if (uid) return { name, ...uid };
  }
  try {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", FALLBACK_USER], { stdio: "pipe" });
  } catch (err) {
    // Exit code 9: another test process created it a moment ago — fine.
    if (/** @type {{status?: number}} */ (err).status !== 9) {
      throw new Error(`startPostgres: running as root, no 'postgres' account, and useradd ${FALLBACK_USER} failed: ${String(/** @type {{stderr?: unknown}} */ (err).stderr ?? err).trim()}`);
    }
  }
  const ids = accountIds(FALLBACK_USER);
  if (!ids) throw new Error(`startPostgres: account ${FALLBACK_USER} was created but is not in /etc/passwd`);
  return { name: FALLBACK_USER, ...ids };
}

/** @param {string} name */
function accountIds(name) {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Runs a PostgreSQL tool, as `runAs` when given (we are root).
 * @param {string | undefined} runAs @param {string} cmd @param {string[]} args @param {string} cwd
 * @returns {Promise<string>}
 */
function runTool(runAs, cmd, args, cwd) {
  const [file, argv] = runAs ? ["runuser", ["-u", runAs, "--", cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
  });
}

/** @param {string | undefined} runAs @param {string} bindir @param {string} dataDir @param {string} cwd */
function stopSync(runAs, bindir, dataDir, cwd) {
  const args = ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30"];
  const [file, argv] = runAs ? ["runuser", ["-u", runAs, "--", tool(bindir, "pg_ctl"), ...args]] : [tool(bindir, "pg_ctl"), args];
  try {
    execFileSync(file, argv, { cwd, stdio: "ignore", timeout: 40_000 });
  } catch {
    /* not running (any more) */
  }
}

function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const s of live) {
      stopSync(s.runAs, s.bindir, s.dataDir, s.dir);
      rmSync(s.dir, { recursive: true, force: true });
    }
    live.clear();
  });
  // process.exit runs the exit hook above; without these handlers a signal would skip it.
  for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    process.once(sig, () => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[sig]));
  }
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a fresh PostgreSQL server; see postgres-server.d.mts.
 * @returns {Promise<{url: string; port: number; dir: string; stop(): Promise<void>}>}
 */
export async function startPostgres() {
  installExitHooks();
  const bindir = postgresBinDir();
  const account = serverAccount();
  const runAs = account?.name;
  const dir = mkdtempSync(join(tmpdir(), "idsync-pg-"));
  const dataDir = join(dir, "data");
  const sockDir = join(dir, "sock");
  mkdirSync(sockDir);
  if (account) {
    chownSync(dir, account.uid, account.gid);
    chownSync(sockDir, account.uid, account.gid);
  }
  const state = { dataDir, dir, runAs, bindir };
  live.add(state);
  try {
    await runTool(runAs, tool(bindir, "initdb"), ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], dir);
    const conf = join(dataDir, "postgresql.conf");
    const initialConf = readFileSync(conf, "utf8");
    // A port picked free can be taken before the server binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      writeFileSync(conf, initialConf + settings(port, sockDir));
      const log = join(dir, "server.log");
      try {
        await runTool(runAs, tool(bindir, "pg_ctl"), ["start", "-D", dataDir, "-l", log, "-w", "-t", "60"], dir);
      } catch (err) {
        const text = existsSync(log) ? readFileSync(log, "utf8") : "";
        if (attempt < 4 && /could not bind|already in use/i.test(text)) continue;
        throw new Error(`${/** @type {Error} */ (err).message}\n${text.trim().split("\n").slice(-15).join("\n")}`);
      }
      const stop = async () => {
        if (!live.has(state)) return;
        live.delete(state);
        await runTool(runAs, tool(bindir, "pg_ctl"), ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30"], dir).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      };
      return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, stop };
    }
  } catch (err) {
    stopSync(runAs, bindir, dataDir, dir);
    rmSync(dir, { recursive: true, force: true });
    live.delete(state);
    const hint = account ? ` (as ${account.name}; it must be able to write ${tmpdir()})` : "";
    throw new Error(`startPostgres${hint}: ${/** @type {Error} */ (err).message}`);
  }
}

/** @param {number} port @param {string} sockDir */
function settings(port, sockDir) {
  return [
    "",
    "# idsync test harness",
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${sockDir}'`,
    // Throw-away data: durability buys nothing and costs most of the run time.
    "fsync = off",
    "synchronous_commit = off",
    "full_page_writes = off",
    // Tests run two files at a time, each with its own databases and connection pools.
    "max_connections = 200",
    "",
  ].join("\n");
}
