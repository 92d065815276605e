// A throw-away Samba Active Directory domain controller on its own loopback address.
//
// Plain JavaScript on purpose, so that scripts (scripts/start-samba-dc.sh) can use it without tsx;
// types are in samba-dc.d.mts, and test/harness/samba.ts re-exports both for the TypeScript tests.
//
// How it works (see /work/shared/notes/test-peers.md §1 for the measurements behind each choice):
//
// * Template. `samba-tool domain provision` takes 12–15 s, so it runs once per machine and Samba
//   version into $TMPDIR/idsync-samba-template-<version> (realm SYNC.TEST, domain SYNC, host dc1).
//   It is built in a temp dir and renamed into place when complete, under a cross-process lock
//   ($TMPDIR/idsync-samba-template-<version>.lock, holding the owner's pid), so two test files that
//   start at once provision once and a half-made template (its provisioner died) is redone. The
//   template gets its own certificate (a CA and a leaf for dc1.sync.test with IP SANs 127.0.0.1 …
//   127.0.0.254) so that Samba does not generate one on every start, and a password policy with no
//   minimum age and no history (complexity stays on). `ldap server require strong auth` keeps its
//   default: simple binds need TLS, as on Windows AD.
// * Clone. Each DC is a `cp -a` of the template in a fresh temp dir; only etc/smb.conf holds
//   absolute paths, and it is rewritten for the clone (paths, `interfaces = <ip>/8`,
//   `server services = ldap`, `ldb:nosync = true`, extra lines). Then
//   `samba -M single -F --no-process-group` runs as a child until TCP <ip>:636 accepts.
// * Loopback address. Samba's LDAP ports are fixed (389/636/3268/3269), so every DC gets its own
//   127.0.0.N (N >= 2). An address is claimed atomically across processes by renaming a directory
//   holding owner.json into $TMPDIR/idsync-samba-ips/127.0.0.N; a claim whose owner pid is dead is
//   taken back (and an orphaned samba it names is killed). Nothing may listen on <ip>:636 or :389.
// * Cleanup. stop() sends SIGTERM (SIGKILL after 15 s), removes the clone dir and frees the address.
//   Every DC this process started is SIGKILLed and removed when the process exits (exit hook plus
//   SIGINT/SIGTERM/SIGHUP handlers), so a failing test leaves no samba behind. A DC started with
//   `detached: true` (the start script's) is the exception: it outlives this process and is stopped
//   with stopDomainControllerDir().
//
// Binding 389/636 needs root (or CAP_NET_BIND_SERVICE).
import { execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join, resolve } from "node:path";

export const REALM = "SYNC.TEST";
const NETBIOS_DOMAIN = "SYNC";
const DNS_DOMAIN = "sync.test";
const HOST_NAME = "dc1";
export const BASE_DN = "DC=sync,DC=test";
export const ADMIN_DN = `CN=Administrator,CN=Users,${BASE_DN}`;
export const ADMIN_UPN = `Administrator@${DNS_DOMAIN}`;

/** Bump when the template recipe changes: an older template is then provisioned again. */
const TEMPLATE_RECIPE = 1;
const TEMPLATE_MARKER = "idsync-template.json";
/** Written into every clone: what stopDomainControllerDir() and a later start on the dir need. */
const DC_INFO = "idsync-dc.json";
const SETUP_DIR = process.env.SAMBA_SETUP_DIR ?? "/usr/share/samba/setup";
const PACKAGES = "samba samba-ad-dc samba-ad-provision";
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const TEMPLATE_WAIT_MS = 10 * 60_000;

// ---------------------------------------------------------------------------------------------
// Programs

/** @param {string} name @returns {string | undefined} absolute path of a program on PATH or in /usr/sbin, /usr/bin, /sbin */
function findProgram(name) {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * True when samba, samba-tool, /usr/share/samba/setup (samba-ad-provision) and the DC's ldb modules
 * (samba-dsdb-modules, pulled in by samba-ad-dc) are present.
 */
export function sambaAvailable() {
  return missingSambaParts().length === 0;
}

function missingSambaParts() {
  const missing = [];
  if (!findProgram("samba")) missing.push("samba (package samba)");
  if (!findProgram("samba-tool")) missing.push("samba-tool (package samba-common-bin, pulled in by samba)");
  if (!existsSync(SETUP_DIR)) missing.push(`${SETUP_DIR} (package samba-ad-provision)`);
  if (!hasDsdbModules()) missing.push("samba/ldb/samba_dsdb.so (package samba-dsdb-modules, pulled in by samba-ad-dc)");
  return missing;
}

/** /usr/lib/<multiarch>/samba/ldb/samba_dsdb.so, or /usr/lib/samba/ldb/… on other layouts. */
function hasDsdbModules() {
  const roots = ["/usr/lib", "/usr/lib64"];
  for (const root of roots) {
    if (existsSync(join(root, "samba", "ldb", "samba_dsdb.so"))) return true;
    let entries = [];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const e of entries) if (existsSync(join(root, e, "samba", "ldb", "samba_dsdb.so"))) return true;
  }
  return false;
}

/** @param {string} name @param {string} pkg */
function requireProgram(name, pkg) {
  const p = findProgram(name);
  if (!p) throw new Error(`Samba DC harness: ${name} is not installed (apt-get install -y ${pkg})`);
  return p;
}

function requireSamba() {
  const missing = missingSambaParts();
  if (missing.length > 0) {
    throw new Error(
      `Samba AD DC is not installed: missing ${missing.join(", ")}. ` +
        `Install it with: apt-get install -y --no-install-recommends ${PACKAGES} ` +
        `(or run scripts/ensure-deps.sh as root)`,
    );
  }
  requireProgram("openssl", "openssl");
}

let versionCache = "";
/** "4.17.12-Debian", from `samba --version`. */
export function sambaVersion() {
  if (!versionCache) {
    const out = execFileSync(requireProgram("samba", "samba"), ["--version"], { encoding: "utf8" }).trim();
    versionCache = out.replace(/^Version\s+/i, "").replace(/[^A-Za-z0-9._+-]/g, "_");
  }
  return versionCache;
}

/**
 * Runs a program; resolves with stdout, rejects with an Error carrying stderr (and `stderr`,
 * `exitCode` properties). The value after `-w` or starting with --adminpass= is masked in messages.
 * @param {string} cmd @param {string[]} args
 * @param {{ input?: string; env?: NodeJS.ProcessEnv; cwd?: string; track?: boolean }} [opts]
 *   track: kill the program if this process exits first (samba-tool, which writes the template)
 * @returns {Promise<string>}
 */
function run(cmd, args, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      cmd,
      args,
      { maxBuffer: 512 * 1024 * 1024, env: opts.env, cwd: opts.cwd },
      (err, stdout, stderr) => {
        if (!err) return resolvePromise(stdout);
        const shown = args
          .map((a, i) => (args[i - 1] === "-w" ? "***" : a.startsWith("--adminpass=") ? "--adminpass=***" : a))
          .join(" ")
          .slice(0, 300);
        const e = /** @type {Error & {stderr?: string; stdout?: string; exitCode?: unknown}} */ (
          new Error(`${basename(cmd)} ${shown} failed (exit ${err.code ?? "?"}): ${(stderr || stdout || err.message).trim()}`)
        );
        e.stderr = stderr;
        e.stdout = stdout;
        e.exitCode = err.code;
        reject(e);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    if (opts.track) {
      const killIt = () => child.kill("SIGKILL");
      atExit(killIt);
      child.once("exit", () => atExitDone(killIt));
    }
  });
}

/** Work to do if this process exits in the middle of something (template provisioning). */
const exitTasks = new Set();
let exitTasksHooked = false;
/** @param {() => void} fn */
function atExit(fn) {
  if (!exitTasksHooked) {
    exitTasksHooked = true;
    process.on("exit", () => {
      for (const task of [...exitTasks].reverse()) {
        try {
          task();
        } catch {
          /* best effort */
        }
      }
    });
  }
  exitTasks.add(fn);
}
/** @param {() => void} fn */
const atExitDone = (fn) => exitTasks.delete(fn);

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {number | undefined} pid */
function pidAlive(pid) {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === "EPERM";
  }
}

const token = () => `${process.pid}-${randomBytes(6).toString("hex")}`;

// ---------------------------------------------------------------------------------------------
// Cross-process claims: a directory holding owner.json, created by an atomic rename.
//
// rename(2) of a directory onto an existing non-empty directory fails, so exactly one process
// creates a claim; a claim is removed by renaming it away first, so it never exists half-deleted.

/**
 * @typedef {{ pid: number; token: string; dir?: string; sambaPid?: number; ownsDir?: boolean }} Owner
 */

/** @param {string} path @returns {Owner | undefined} */
function readOwner(path) {
  try {
    return JSON.parse(readFileSync(join(path, "owner.json"), "utf8"));
  } catch {
    return undefined;
  }
}

/** @param {string} path @param {Owner} owner @returns {boolean} true if this call created the claim */
function tryClaim(path, owner) {
  const tmp = `${path}.new-${token()}`;
  mkdirSync(tmp);
  writeFileSync(join(tmp, "owner.json"), JSON.stringify(owner));
  try {
    renameSync(tmp, path);
    return true;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = /** @type {NodeJS.ErrnoException} */ (err).code;
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR") return false;
    throw err;
  }
}

/** Rewrites owner.json of a claim we hold (atomically, inside the claim dir). @param {string} path @param {Owner} owner */
function updateClaim(path, owner) {
  const tmp = join(path, `owner.json.${token()}`);
  writeFileSync(tmp, JSON.stringify(owner));
  renameSync(tmp, join(path, "owner.json"));
}

/** Removes a claim if it is still ours (same token). @param {string} path @param {string} tok */
function releaseClaim(path, tok) {
  const owner = readOwner(path);
  if (!owner || owner.token !== tok) return;
  removeDir(path);
}

/** Renames a directory away, then deletes it. @param {string} path */
function removeDir(path) {
  const trash = `${path}.gone-${token()}`;
  try {
    renameSync(path, trash);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === "ENOENT") return;
    throw err;
  }
  rmSync(trash, { recursive: true, force: true });
}

/**
 * Takes away a claim whose owner is dead: kills the orphaned samba it names and removes the
 * clone dir it made. Returns true when the claim is gone (free to claim again).
 * @param {string} path
 */
async function reclaimIfStale(path) {
  const seen = readOwner(path);
  if (seen && pidAlive(seen.pid)) return false;
  if (!seen && existsSync(path)) {
    // No owner.json: claims are created with it, so this is debris; leave very young ones alone.
    try {
      if (Date.now() - statSync(path).mtimeMs < 5_000) return false;
    } catch {
      return true;
    }
  }
  const trash = `${path}.stale-${token()}`;
  try {
    renameSync(path, trash);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === "ENOENT") return true;
    throw err;
  }
  const moved = readOwner(trash);
  if (moved?.token !== seen?.token) {
    // Another process reclaimed it and claimed it afresh between our read and our rename: put it back.
    try {
      renameSync(trash, path);
    } catch {
      /* a third process claimed it meanwhile; the owner we displaced keeps running regardless */
    }
    return false;
  }
  if (moved) await cleanUpOrphan(moved);
  rmSync(trash, { recursive: true, force: true });
  return true;
}

/** @param {Owner} owner */
async function cleanUpOrphan(owner) {
  if (owner.sambaPid && owner.dir && isSambaIn(owner.sambaPid, owner.dir)) {
    try {
      process.kill(owner.sambaPid, "SIGKILL");
    } catch {
      /* gone */
    }
    await waitPid(owner.sambaPid, 10_000);
  }
  if (owner.ownsDir && owner.dir && basename(owner.dir).startsWith("idsync-samba-dc-")) {
    rmSync(owner.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Template

/** $TMPDIR/idsync-samba-template-<samba version> */
export function templateDir() {
  return join(tmpdir(), `idsync-samba-template-${sambaVersion()}`);
}

/**
 * @typedef {{ recipe: number; samba: string; root: string; adminPassword: string; provisionSeconds: number }} TemplateInfo
 */

/** @param {string} tpl @returns {TemplateInfo | undefined} */
function readyTemplate(tpl) {
  try {
    /** @type {TemplateInfo} */
    const info = JSON.parse(readFileSync(join(tpl, TEMPLATE_MARKER), "utf8"));
    if (info.recipe !== TEMPLATE_RECIPE || info.samba !== sambaVersion() || info.root !== tpl) return undefined;
    for (const f of ["etc/smb.conf", "private/sam.ldb", "private/tls/cert.pem", "private/tls/key.pem", "private/tls/ca.pem"]) {
      if (!existsSync(join(tpl, f))) return undefined;
    }
    return info;
  } catch {
    return undefined;
  }
}

/**
 * The provisioned template, made now if there is none (waiting for another process that is making it).
 * @returns {Promise<TemplateInfo & { dir: string }>}
 */
export async function ensureTemplate() {
  requireSamba();
  const tpl = templateDir();
  removeAbandonedWork(tpl);
  const ready = readyTemplate(tpl);
  if (ready) return { ...ready, dir: tpl };
  const lock = `${tpl}.lock`;
  const me = { pid: process.pid, token: token() };
  const deadline = Date.now() + TEMPLATE_WAIT_MS;
  for (;;) {
    if (tryClaim(lock, me)) break;
    if (await reclaimIfStale(lock)) continue;
    const done = readyTemplate(tpl);
    if (done) return { ...done, dir: tpl };
    if (Date.now() > deadline) {
      throw new Error(`Samba DC harness: waited ${TEMPLATE_WAIT_MS / 1000} s for pid ${readOwner(lock)?.pid} to provision ${tpl} (lock ${lock})`);
    }
    await sleep(250);
  }
  // Killed by a signal mid-provisioning: free the lock now rather than leave it for the next one.
  const unlock = () => releaseClaim(lock, me.token);
  atExit(unlock);
  try {
    const done = readyTemplate(tpl);
    if (done) return { ...done, dir: tpl };
    // Half-made or from an older recipe, and nobody else is working on it (we hold the lock).
    if (existsSync(tpl)) removeDir(tpl);
    const info = await provisionTemplate(tpl);
    return { ...info, dir: tpl };
  } finally {
    atExitDone(unlock);
    releaseClaim(lock, me.token);
  }
}

/** Deletes <tpl>.tmp-<pid>-… dirs whose provisioning process is dead. @param {string} tpl */
function removeAbandonedWork(tpl) {
  const prefix = `${basename(tpl)}.tmp-`;
  for (const name of readdirSync(dirname(tpl))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (!pidAlive(pid)) rmSync(join(dirname(tpl), name), { recursive: true, force: true });
  }
}

/** A password that meets AD complexity (three of: upper, lower, digit, symbol; 7+ chars). */
function newAdminPassword() {
  return `Adm1n-${randomBytes(9).toString("base64url")}-Pw!`;
}

/** @param {string} tpl @returns {Promise<TemplateInfo>} */
async function provisionTemplate(tpl) {
  const t0 = Date.now();
  const work = `${tpl}.tmp-${token()}`;
  mkdirSync(work, { mode: 0o700 });
  const discard = () => rmSync(work, { recursive: true, force: true });
  atExit(discard);
  try {
    const adminPassword = newAdminPassword();
    // -s EMPTY: otherwise samba-tool copies settings from /etc/samba/smb.conf into the domain.
    const emptyConf = join(work, "empty.conf");
    writeFileSync(emptyConf, "");
    const samba_tool = requireProgram("samba-tool", "samba-common-bin");
    await run(samba_tool, [
      "domain", "provision", "-s", emptyConf, `--targetdir=${work}`,
      `--realm=${REALM}`, `--domain=${NETBIOS_DOMAIN}`, `--adminpass=${adminPassword}`, "--server-role=dc",
      "--dns-backend=SAMBA_INTERNAL", "--use-rfc2307", `--host-name=${HOST_NAME}`,
      "--option=interfaces=127.0.0.1/8", "--option=bind interfaces only=yes",
      "--option=server services=ldap cldap kdc rpc", "--option=dns forwarder=",
      `--option=log file=${work}/log.%m`, `--option=pid directory=${work}/run`,
      `--option=ncalrpc dir=${work}/run/ncalrpc`, `--option=winbindd socket directory=${work}/run/winbindd`,
      `--option=ntp signd socket directory=${work}/run/ntp_signd`,
    ], { track: true }).catch((err) => {
      throw new Error(`samba-tool domain provision failed: ${tail(String(err.stdout ?? "") + String(err.stderr ?? err.message), 25)}`);
    });
    rmSync(emptyConf);
    const conf = join(work, "etc", "smb.conf");
    // Password age and history only: tests change passwords repeatedly. Complexity stays on.
    await run(samba_tool, [
      "domain", "passwordsettings", "set", "--min-pwd-age=0", "--history-length=0",
      "-H", join(work, "private", "sam.ldb"), "-s", conf,
    ], { track: true });
    await makeCertificate(join(work, "private", "tls"));
    writeFileSync(conf, readFileSync(conf, "utf8").replaceAll(work, tpl));
    /** @type {TemplateInfo} */
    const info = {
      recipe: TEMPLATE_RECIPE,
      samba: sambaVersion(),
      root: tpl,
      adminPassword,
      provisionSeconds: (Date.now() - t0) / 1000,
    };
    writeFileSync(join(work, TEMPLATE_MARKER), JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
    renameSync(work, tpl);
    return info;
  } catch (err) {
    discard();
    throw err;
  } finally {
    atExitDone(discard);
  }
}

/**
 * ca.pem (a CA), cert.pem (dc1.sync.test, IP SANs 127.0.0.1–254, signed by the CA) and key.pem,
 * where Samba looks by default (private/tls). With all three present Samba makes no certificate.
 * @param {string} tlsDir
 */
async function makeCertificate(tlsDir) {
  const openssl = requireProgram("openssl", "openssl");
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const f = (/** @type {string} */ n) => join(tlsDir, n);
  const san = [`DNS:${HOST_NAME}.${DNS_DOMAIN}`];
  for (let n = 1; n <= 254; n++) san.push(`IP:127.0.0.${n}`);
  await run(openssl, [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "3650",
    "-subj", `/CN=idsync test CA (${REALM})`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await run(openssl, [
    "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f("key.pem"), "-out", f("cert.csr"),
    "-subj", `/CN=${HOST_NAME}.${DNS_DOMAIN}`,
  ]);
  writeFileSync(
    f("cert.ext"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${san.join(",")}`,
      "",
    ].join("\n"),
  );
  await run(openssl, [
    "x509", "-req", "-in", f("cert.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"),
    "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "3650", "-out", f("cert.pem"), "-extfile", f("cert.ext"),
  ]);
  for (const n of ["ca.key", "cert.csr", "cert.ext"]) rmSync(f(n));
  // Samba refuses a private key that others can read.
  execFileSync("chmod", ["600", f("key.pem")]);
}

// ---------------------------------------------------------------------------------------------
// smb.conf

/** @param {string} key */
const normKey = (key) => key.toLowerCase().replace(/\s+/g, "");

/**
 * Sets `key = value` in [global]: drops every line for that key (Samba's last one wins, so an
 * appended duplicate would depend on the order) and adds the new one at the end of the section.
 * @param {string[]} lines @param {string} key @param {string} value
 */
function setGlobal(lines, key, value) {
  let start = lines.findIndex((l) => /^\s*\[global\]\s*$/i.test(l));
  if (start < 0) {
    lines.unshift("[global]");
    start = 0;
  }
  let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  for (let i = end - 1; i > start; i--) {
    const m = /^\s*([^=;#]+?)\s*=/.exec(lines[i]);
    if (m && normKey(m[1]) === normKey(key)) {
      lines.splice(i, 1);
      end--;
    }
  }
  // Insert after the section's last non-blank line.
  let at = end;
  while (at - 1 > start && lines[at - 1].trim() === "") at--;
  lines.splice(at, 0, `\t${key.trim()} = ${value.trim()}`);
}

/**
 * @param {string} conf path of the clone's smb.conf
 * @param {string} fromRoot the root the file's paths point at now @param {string} dir the clone
 * @param {string} ip @param {string[]} extraConf
 */
function writeCloneConf(conf, fromRoot, dir, ip, extraConf) {
  const text = fromRoot === dir ? readFileSync(conf, "utf8") : readFileSync(conf, "utf8").replaceAll(fromRoot, dir);
  const lines = text.split("\n");
  setGlobal(lines, "interfaces", `${ip}/8`); // a bare 127.0.0.N matches no interface (lo carries 127.0.0.1/8)
  setGlobal(lines, "bind interfaces only", "yes");
  setGlobal(lines, "server services", "ldap"); // LDAP/LDAPS/GC only: no Kerberos, RPC or CLDAP ports
  setGlobal(lines, "ldb:nosync", "true"); // about 3x faster writes; the data is thrown away anyway
  for (const line of extraConf) {
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`startDomainController: extraConf line "${line}" is not "name = value"`);
    setGlobal(lines, line.slice(0, eq), line.slice(eq + 1));
  }
  writeFileSync(conf, lines.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Addresses and ports

/**
 * @param {string} host @param {number} port
 * @param {number} timeoutMs @param {boolean} onTimeout what no answer at all counts as
 * @returns {Promise<boolean>} true if something accepts
 */
function accepts(host, port, timeoutMs, onTimeout) {
  return new Promise((resolvePromise) => {
    const sock = connect({ host, port });
    const done = (/** @type {boolean} */ v) => {
      clearTimeout(timer);
      sock.destroy();
      resolvePromise(v);
    };
    const timer = setTimeout(() => done(onTimeout), timeoutMs);
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

const ipsDir = () => join(tmpdir(), "idsync-samba-ips");

/** @param {string} ip */
function checkIp(ip) {
  const m = /^127\.0\.0\.(\d{1,3})$/.exec(ip);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 254) {
    throw new Error(`startDomainController: ip ${ip} must be 127.0.0.N with N in 1..254 (the certificate's IP SANs)`);
  }
}

/**
 * Claims a loopback address for a DC: the one asked for, or the first free of 127.0.0.2–254.
 * @param {string | undefined} wanted @param {Owner} owner
 * @returns {Promise<{ ip: string; path: string }>}
 */
async function claimAddress(wanted, owner) {
  mkdirSync(ipsDir(), { recursive: true });
  const candidates = wanted ? [wanted] : Array.from({ length: 253 }, (_, i) => `127.0.0.${i + 2}`);
  for (const ip of candidates) {
    const path = join(ipsDir(), ip);
    let got = tryClaim(path, owner);
    if (!got && (await reclaimIfStale(path))) got = tryClaim(path, owner);
    if (!got) {
      if (wanted) throw new Error(`startDomainController: ${ip} is taken by pid ${readOwner(path)?.pid} (claim ${path})`);
      continue;
    }
    // No answer at all (neither accepted nor refused) counts as busy: better not use that address.
    if ((await accepts(ip, 636, 1000, true)) || (await accepts(ip, 389, 1000, true))) {
      releaseClaim(path, owner.token);
      if (wanted) throw new Error(`startDomainController: something already listens on ${ip}:636 or :389`);
      continue;
    }
    return { ip, path };
  }
  throw new Error(`startDomainController: no free loopback address in 127.0.0.2–254 (claims in ${ipsDir()})`);
}

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * @typedef {{
 *   dir: string; ip: string; claimPath: string; owner: Owner; ownsDir: boolean;
 *   child?: import("node:child_process").ChildProcess; pid?: number; exited?: Promise<void>;
 *   stopped: boolean; detached: boolean;
 * }} DcState
 */

/** @type {Set<DcState>} */
const live = new Set();
let hooksInstalled = false;

function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const s of live) {
      if (s.pid && pidAlive(s.pid)) {
        try {
          process.kill(s.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      if (s.ownsDir) rmSync(s.dir, { recursive: true, force: true });
      try {
        releaseClaim(s.claimPath, s.owner.token);
      } catch {
        /* best effort at exit */
      }
    }
    live.clear();
  });
  // process.exit runs the exit hook above; without these handlers a signal would skip it.
  for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    process.once(sig, () => process.exit(128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig]));
  }
}

/** @param {string} file @param {number} n */
function tailFile(file, n) {
  try {
    return tail(readFileSync(file, "utf8"), n);
  } catch {
    return "(no output)";
  }
}

/** @param {string} text @param {number} n */
function tail(text, n) {
  return text.trim().split("\n").slice(-n).join("\n");
}

/**
 * Starts samba on the clone and waits until <ip>:636 accepts.
 * @param {DcState} s
 */
async function launch(s) {
  const conf = join(s.dir, "etc", "smb.conf");
  const logFile = join(s.dir, "samba.out");
  rmSync(join(s.dir, "run", "samba.pid"), { force: true }); // a SIGKILLed samba leaves it behind
  const fd = openSync(logFile, "a");
  const t0 = Date.now();
  const child = spawn(
    requireProgram("samba", "samba"),
    ["-M", "single", "-F", "--no-process-group", "-s", conf, "--debug-stdout", "-d", "1"],
    { stdio: ["ignore", fd, fd], detached: s.detached, cwd: s.dir },
  );
  closeSync(fd);
  /** @type {Error | undefined} */
  let spawnError;
  let exitStatus = "";
  s.exited = new Promise((r) => {
    child.once("error", (err) => {
      spawnError = err;
      r();
    });
    child.once("exit", (code, signal) => {
      exitStatus = signal ? `signal ${signal}` : `exit code ${code}`;
      if (s.child === child) {
        s.child = undefined;
        s.pid = undefined;
      }
      r();
    });
  });
  s.child = child;
  s.pid = child.pid;
  // A forgotten DC must not keep the test process alive; the exit hook kills it.
  child.unref();
  if (child.pid) {
    s.owner = { ...s.owner, sambaPid: child.pid, ...(s.detached ? { pid: child.pid } : {}) };
    updateClaim(s.claimPath, s.owner);
    writeInfo(s);
  }
  let running = true;
  void s.exited.then(() => (running = false));
  while (Date.now() - t0 < START_TIMEOUT_MS) {
    if (!running || spawnError) {
      const why = spawnError ? spawnError.message : exitStatus;
      const root = process.getuid?.() === 0 ? "" : " (binding ports 389/636 needs root)";
      throw new Error(`samba on ${s.ip} died during start (${why})${root}; ${logFile} ends with:\n${tailFile(logFile, 20)}`);
    }
    if (await accepts(s.ip, 636, 2000, false)) return Date.now() - t0;
    await sleep(100);
  }
  await terminate(s, "SIGKILL", 0);
  throw new Error(`samba on ${s.ip} did not accept on port 636 within ${START_TIMEOUT_MS / 1000} s; ${logFile} ends with:\n${tailFile(logFile, 20)}`);
}

/**
 * Signals samba and waits for it to end; SIGKILL after graceMs.
 * @param {DcState} s @param {NodeJS.Signals} signal @param {number} graceMs
 */
async function terminate(s, signal, graceMs) {
  const pid = s.pid;
  if (!pid) return;
  const exited = s.exited ?? waitPid(pid);
  let done = false;
  void exited.then(() => (done = true));
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
  const t0 = Date.now();
  // A polling timer (not just the promise) keeps the event loop alive while we wait.
  while (!done) {
    if (signal !== "SIGKILL" && Date.now() - t0 > graceMs) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
      signal = "SIGKILL";
    }
    if (Date.now() - t0 > graceMs + 30_000) throw new Error(`samba pid ${pid} did not exit after SIGKILL`);
    await sleep(50);
  }
  s.child = undefined;
  s.pid = undefined;
  s.exited = undefined;
}

/**
 * For a samba that is not our child (detached, started by another process). A zombie counts as
 * gone: PID 1 does not always reap orphans (it does not in this sandbox).
 * @param {number} pid @param {number} [timeoutMs]
 */
async function waitPid(pid, timeoutMs = Infinity) {
  const t0 = Date.now();
  while (pidAlive(pid) && !isZombie(pid) && Date.now() - t0 < timeoutMs) await sleep(50);
}

/**
 * Is pid a samba we started in dir? samba rewrites its command line ("samba: root process"), so
 * this checks the executable and the working directory (the harness starts samba with cwd = dir).
 * Without /proc the answer is no: we never kill what we cannot identify.
 * @param {number} pid @param {string} dir
 */
function isSambaIn(pid, dir) {
  if (!pidAlive(pid) || isZombie(pid)) return false;
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
    const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, "");
    return basename(exe) === "samba" && cwd === dir;
  } catch {
    return false;
  }
}

/** @param {number} pid */
function isZombie(pid) {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** @param {DcState} s */
function writeInfo(s) {
  const info = {
    ip: s.ip,
    url: `ldaps://${s.ip}:636`,
    pid: s.pid,
    claim: s.claimPath,
    token: s.owner.token,
    ownsDir: s.ownsDir,
    root: s.dir,
  };
  writeFileSync(join(s.dir, DC_INFO), JSON.stringify(info, null, 2) + "\n");
}

// ---------------------------------------------------------------------------------------------
// The public API (types in samba-dc.d.mts)

/**
 * @param {{ extraConf?: string[]; ip?: string; dir?: string; detached?: boolean }} [options]
 */
export async function startDomainController(options = {}) {
  requireSamba();
  const detached = options.detached === true;
  if (!detached) installExitHooks();
  if (options.ip) checkIp(options.ip);
  const tpl = await ensureTemplate();

  // The clone: a fresh temp dir, or options.dir (a new/empty dir, or one holding an earlier clone
  // whose DC is not running: started again on its data).
  let dir;
  let ownsDir = false;
  let fromRoot = tpl.dir;
  let reuse = false;
  if (options.dir) {
    dir = resolve(options.dir);
    if (existsSync(join(dir, DC_INFO))) {
      const prev = JSON.parse(readFileSync(join(dir, DC_INFO), "utf8"));
      if (prev.pid && isSambaIn(prev.pid, dir)) {
        throw new Error(`startDomainController: a DC is already running in ${dir} (pid ${prev.pid}, ${prev.url})`);
      }
      fromRoot = prev.root;
      reuse = true;
    } else if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw new Error(`startDomainController: ${dir} exists and holds no DC (${DC_INFO}); give an empty or new dir`);
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } else {
    dir = mkdtempSync(join(tmpdir(), "idsync-samba-dc-"));
    ownsDir = true;
  }

  /** @type {Owner} */
  const owner = { pid: process.pid, token: token(), dir, ownsDir };
  let claim;
  try {
    claim = await claimAddress(options.ip, owner);
  } catch (err) {
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  /** @type {DcState} */
  const s = { dir, ip: claim.ip, claimPath: claim.path, owner, ownsDir, stopped: false, detached };
  if (!detached) live.add(s);
  const timings = { cloneMs: 0, startMs: 0 };
  try {
    const t0 = Date.now();
    if (!reuse) await run("cp", ["-a", `${tpl.dir}/.`, `${dir}/`]);
    rmSync(join(dir, TEMPLATE_MARKER), { force: true });
    writeCloneConf(join(dir, "etc", "smb.conf"), fromRoot, dir, claim.ip, options.extraConf ?? []);
    writeInfo(s);
    timings.cloneMs = Date.now() - t0;
    timings.startMs = await launch(s);
  } catch (err) {
    live.delete(s);
    await terminate(s, "SIGKILL", 0).catch(() => {});
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    releaseClaim(claim.path, owner.token);
    throw err;
  }

  const ip = claim.ip;
  const url = `ldaps://${ip}:636`;
  const caFile = join(dir, "private", "tls", "ca.pem");
  const adminPassword = tpl.adminPassword;
  const ldapEnv = () => ({ ...process.env, LDAPTLS_CACERT: caFile, LDAPTLS_REQCERT: "demand" });
  const ldapsearchBin = () => requireProgram("ldapsearch", "ldap-utils");
  const ldapmodifyBin = () => requireProgram("ldapmodify", "ldap-utils");

  return {
    ip,
    url,
    startTlsUrl: `ldap://${ip}:389`,
    realm: REALM,
    baseDN: BASE_DN,
    adminDN: ADMIN_DN,
    adminUPN: ADMIN_UPN,
    adminPassword,
    caFile,
    dir,
    pid: () => s.pid,
    timings,
    async stop() {
      if (s.stopped) return;
      s.stopped = true;
      await terminate(s, "SIGTERM", STOP_GRACE_MS);
      live.delete(s);
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
      releaseClaim(s.claimPath, s.owner.token);
    },
    async kill() {
      if (s.stopped) return;
      await terminate(s, "SIGKILL", 0);
    },
    async start() {
      if (s.stopped) throw new Error(`startDomainController: the DC on ${ip} was stopped and its data removed; start() is for after kill()`);
      if (s.pid && pidAlive(s.pid)) throw new Error(`startDomainController: the DC on ${ip} is still running (pid ${s.pid})`);
      timings.startMs = await launch(s);
    },
    /** @param {string[]} args */
    ldapsearch(args) {
      return run(ldapsearchBin(), ["-LLL", "-o", "ldif-wrap=no", "-H", url, "-x", "-D", ADMIN_DN, "-w", adminPassword, ...args], { env: ldapEnv() });
    },
    /** @param {string} ldif */
    ldapmodify(ldif) {
      return run(ldapmodifyBin(), ["-H", url, "-x", "-D", ADMIN_DN, "-w", adminPassword], { env: ldapEnv(), input: ldif });
    },
  };
}

/**
 * Stops a DC started (usually detached) in dir by any process: SIGTERM, SIGKILL after 15 s, frees
 * its address, and removes dir if the harness made it (a --dir the caller chose is kept).
 * @param {string} dirArg
 * @returns {Promise<{ stopped: boolean; removed: boolean; pid?: number }>}
 */
export async function stopDomainControllerDir(dirArg) {
  const dir = resolve(dirArg);
  const infoFile = join(dir, DC_INFO);
  if (!existsSync(infoFile)) throw new Error(`${dir} holds no Samba DC started by this harness (no ${DC_INFO})`);
  const info = JSON.parse(readFileSync(infoFile, "utf8"));
  const pid = info.pid;
  let stopped = false;
  if (info.pid && isSambaIn(info.pid, dir)) {
    /** @type {DcState} */
    const s = { dir, ip: info.ip, claimPath: info.claim, owner: { pid: info.pid, token: info.token }, ownsDir: info.ownsDir, stopped: false, detached: true, pid: info.pid };
    await terminate(s, "SIGTERM", STOP_GRACE_MS);
    stopped = true;
  }
  if (info.claim && info.token) releaseClaim(info.claim, info.token);
  const removed = info.ownsDir === true;
  if (removed) rmSync(dir, { recursive: true, force: true });
  else {
    info.pid = undefined;
    writeFileSync(infoFile, JSON.stringify(info, null, 2) + "\n");
  }
  return { stopped, removed, pid };
}
