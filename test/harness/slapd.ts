// Test harness: a real OpenLDAP slapd (Debian's package) in a temp dir on a random loopback port.
//
// Each call starts its own server with a throw-away mdb database, base entries (the suffix,
// ou=people, ou=groups) and a service account the connector binds as. The service account, not the
// rootdn, is what tests hand to the connector: OpenLDAP exempts the rootdn from every limit, so only
// a normal account makes the size limit (and so the paging tests) meaningful.
//
// Size limits: `sizelimit size.soft=N size.hard=N size.prtotal=unlimited` — a plain search stops at
// N entries (sizeLimitExceeded) while a paged search (RFC 2696) may return any total.
//
// The server is killed when the test process exits (exit hook and SIGINT/SIGTERM), and its temp dir
// removed. When running as root, slapd drops to the `openldap` user (-u/-g) and the dir is chowned.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SlapdOptions {
  /** default dc=example,dc=org; the first RDN must be dc=, o= or ou= */
  suffix?: string;
  /** Adds the accesslog overlay (database cn=accesslog) and syncprov (keeps contextCSN). */
  accesslog?: boolean;
  /** Server size limit for non-paged searches; default 500. */
  sizeLimit?: number;
  /** Also serves ldaps:// and StartTLS with a fresh self-signed certificate (caFile). */
  tls?: boolean;
  /** A fixed loopback port (scripts/start-slapd.sh); default a random free one. */
  port?: number;
  /** The service account's password; default a random one. */
  password?: string;
}

export interface Slapd {
  url: string;
  /** The service account (subject to the size limit, may write everything). */
  bindDN: string;
  password: string;
  /** The rootdn, for test setup and checks with the OpenLDAP command-line tools. */
  rootDN: string;
  rootPassword: string;
  suffix: string;
  /** "cn=accesslog" when the accesslog overlay is on. */
  accesslogBase?: string;
  /** ldaps:// URL and the certificate to trust, when tls was asked for. */
  ldapsUrl?: string;
  caFile?: string;
  dir: string;
  /**
   * Runs an OpenLDAP client tool against this server (as the rootdn unless args carry -D/-w);
   * resolves with stdout. ldapsearch output is not line-wrapped.
   */
  cli(tool: "ldapsearch" | "ldapadd" | "ldapmodify" | "ldapdelete", args: string[], input?: string): Promise<string>;
  /** Graceful stop (SIGTERM) and removal of the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests; restart() brings the same database back on the same port. */
  kill(): void;
  restart(): Promise<void>;
}

const SLAPD = process.env.SLAPD_BIN ?? "/usr/sbin/slapd";
const MODULE_PATH = process.env.SLAPD_MODULE_PATH ?? "/usr/lib/ldap";
const SCHEMA_DIR = process.env.SLAPD_SCHEMA_DIR ?? "/etc/ldap/schema";

const live = new Set<{ child?: ChildProcess; dir: string }>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const cleanup = () => {
    for (const s of live) {
      try {
        s.child?.kill("SIGKILL");
      } catch {
        /* already gone */
      }
      rmSync(s.dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
}

function freePort(): Promise<number> {
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

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      // The password argument (after -w) never appears in the message.
      const shown = args.map((a, i) => (args[i - 1] === "-w" ? "***" : a)).join(" ").slice(0, 200);
      if (err) reject(new Error(`${cmd} ${shown} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The uid/gid slapd should run as when we are root: Debian's openldap account, when present. */
function serviceUser(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("openldap:"));
    if (!line) return undefined; // slapd then runs as root, which it allows
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid), name: "openldap" };
  } catch {
    return undefined;
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), uid, gid);
}

function baseEntryLdif(suffix: string): string {
  const first = suffix.split(",")[0];
  const eq = first.indexOf("=");
  const type = first.slice(0, eq).trim().toLowerCase();
  const value = first.slice(eq + 1).trim();
  if (type === "dc") return `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: ${value}\no: ${value}\n`;
  if (type === "o") return `dn: ${suffix}\nobjectClass: organization\no: ${value}\n`;
  if (type === "ou") return `dn: ${suffix}\nobjectClass: organizationalUnit\nou: ${value}\n`;
  throw new Error(`startSlapd: suffix ${suffix} must start with dc=, o= or ou=`);
}

function slapdConf(o: {
  dir: string;
  suffix: string;
  rootDN: string;
  rootPassword: string;
  bindDN: string;
  sizeLimit: number;
  accesslog: boolean;
  tls: boolean;
}): string {
  const modules = ["back_mdb", ...(o.accesslog ? ["accesslog", "syncprov"] : [])];
  const lines = [
    ...["core", "cosine", "inetorgperson", "nis"].map((s) => `include ${SCHEMA_DIR}/${s}.schema`),
    `modulepath ${MODULE_PATH}`,
    ...modules.map((m) => `moduleload ${m}`),
    `pidfile ${o.dir}/slapd.pid`,
    `argsfile ${o.dir}/slapd.args`,
    // Plain searches stop at sizeLimit; paged searches may return any total (RFC 2696 paging).
    `sizelimit size.soft=${o.sizeLimit} size.hard=${o.sizeLimit} size.prtotal=unlimited`,
    ...(o.tls
      ? [`TLSCertificateFile ${o.dir}/cert.pem`, `TLSCertificateKeyFile ${o.dir}/key.pem`, `TLSCACertificateFile ${o.dir}/cert.pem`]
      : []),
    // Global ACLs apply to every database: the service account manages everything, reads the log.
    `access to dn.subtree="cn=accesslog" by dn.exact="${o.bindDN}" read by * none`,
    `access to attrs=userPassword by dn.exact="${o.bindDN}" write by self write by anonymous auth by * none`,
    `access to * by dn.exact="${o.bindDN}" manage by users read by * none`,
    "",
  ];
  if (o.accesslog) {
    lines.push(
      "database mdb",
      "suffix cn=accesslog",
      `rootdn ${o.rootDN}`,
      `directory ${o.dir}/accesslog`,
      "maxsize 268435456",
      "dbnosync",
      "index reqStart,reqEnd eq",
      "",
    );
  }
  lines.push(
    "database mdb",
    `suffix ${o.suffix}`,
    `rootdn ${o.rootDN}`,
    `rootpw ${o.rootPassword}`,
    `directory ${o.dir}/data`,
    "maxsize 1073741824",
    // Test databases are throw-away: skip fsync (a SIGKILL of slapd still loses nothing).
    "dbnosync",
    "index objectClass,entryUUID,uid,cn,member eq",
  );
  if (o.accesslog) {
    lines.push(
      "overlay syncprov", // maintains contextCSN on the suffix entry
      "overlay accesslog",
      "logdb cn=accesslog",
      "logops writes",
      "logsuccess TRUE",
      "logold (objectClass=*)",
      "logoldattr objectClass entryUUID",
      "logpurge 07+00:00 01+00:00",
    );
  }
  return lines.join("\n") + "\n";
}

export async function startSlapd(opts: SlapdOptions = {}): Promise<Slapd> {
  installExitHooks();
  const suffix = opts.suffix ?? "dc=example,dc=org";
  const sizeLimit = opts.sizeLimit ?? 500;
  const accesslog = opts.accesslog ?? false;
  const tls = opts.tls ?? false;
  const dir = mkdtempSync(join(tmpdir(), "idsync-slapd-"));
  const state: { child?: ChildProcess; dir: string } = { dir };
  live.add(state);

  const rootDN = `cn=admin,${suffix}`;
  const rootPassword = randomBytes(12).toString("hex");
  const bindDN = `cn=idsync,${suffix}`;
  const password = opts.password ?? randomBytes(12).toString("hex");
  for (const sub of ["data", ...(accesslog ? ["accesslog"] : [])]) mkdirSync(join(dir, sub));
  if (tls) {
    await run("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ]);
  }
  const confFile = join(dir, "slapd.conf");
  writeFileSync(confFile, slapdConf({ dir, suffix, rootDN, rootPassword, bindDN, sizeLimit, accesslog, tls }), { mode: 0o600 });
  const user = serviceUser();
  if (user) chownTree(dir, user.uid, user.gid);

  let url = "";
  let ldapsUrl: string | undefined;
  const pickPorts = async () => {
    url = `ldap://127.0.0.1:${opts.port ?? (await freePort())}`;
    ldapsUrl = tls ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
  };
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const listen = [url + "/", ...(ldapsUrl ? [ldapsUrl + "/"] : [])].join(" ");
    const args = ["-f", confFile, "-h", listen, "-d", "0", ...(user ? ["-u", user.name, "-g", user.name] : [])];
    const child = spawn(SLAPD, args, { stdio: ["ignore", "ignore", "pipe"] });
    state.child = child;
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      if (stderr.length < 20000) stderr += d.toString();
    });
    exited = new Promise((resolve) => child.once("exit", () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    // Ready when an anonymous rootDSE read answers.
    for (let i = 0; ; i++) {
      if (gone) throw new Error(`slapd exited during start-up: ${stderr.trim() || "(no output)"}`);
      try {
        await run("ldapsearch", ["-x", "-H", url, "-b", "", "-s", "base", "-o", "nettimeout=2", "namingContexts"]);
        return;
      } catch {
        if (i > 200) {
          child.kill("SIGKILL");
          throw new Error(`slapd did not answer on ${url}: ${stderr.trim()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const cli: Slapd["cli"] = (tool, args, input) => {
    const who = args.includes("-D") ? [] : ["-D", rootDN, "-w", rootPassword];
    return run(tool, ["-x", "-H", url, ...who, ...(tool === "ldapsearch" ? ["-o", "ldif-wrap=no"] : []), ...args], input);
  };

  try {
    // A random port can be taken between choosing it and slapd binding it: then try another.
    for (let attempt = 1; ; attempt++) {
      await pickPorts();
      try {
        await launch();
        break;
      } catch (err) {
        if (opts.port !== undefined || attempt >= 3) throw err;
      }
    }
    const base = [
      baseEntryLdif(suffix),
      `dn: ou=people,${suffix}\nobjectClass: organizationalUnit\nou: people\n`,
      `dn: ou=groups,${suffix}\nobjectClass: organizationalUnit\nou: groups\n`,
      `dn: ${bindDN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: idsync\nuserPassword: ${password}\n`,
    ].join("\n");
    await cli("ldapadd", [], base);
  } catch (err) {
    state.child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    live.delete(state);
    throw err;
  }

  const terminate = async () => {
    const child = state.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    url,
    bindDN,
    password,
    rootDN,
    rootPassword,
    suffix,
    accesslogBase: accesslog ? "cn=accesslog" : undefined,
    ldapsUrl,
    caFile: tls ? join(dir, "cert.pem") : undefined,
    dir,
    cli,
    async stop() {
      await terminate();
      rmSync(dir, { recursive: true, force: true });
      live.delete(state);
    },
    kill() {
      state.child?.kill("SIGKILL");
    },
    async restart() {
      await terminate();
      await exited;
      await launch();
    },
  };
}
