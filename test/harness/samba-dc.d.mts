// Types for samba-dc.mjs (plain JS so that scripts/start-samba-dc.sh can use it without tsx).

export interface DomainController {
  /** 127.0.0.N (N >= 2 unless asked for), unique among the DCs running on this machine, across processes. */
  ip: string;
  /** ldaps://127.0.0.N:636 — verify with caFile (the certificate has an IP SAN for every 127.0.0.1–254). */
  url: string;
  /** ldap://127.0.0.N:389 — StartTLS first: a simple bind without TLS is refused (strongAuthRequired, code 8). */
  startTlsUrl: string;
  /** "SYNC.TEST" (NetBIOS domain SYNC, host dc1.sync.test). */
  realm: string;
  /** "DC=sync,DC=test" */
  baseDN: string;
  /** "CN=Administrator,CN=Users,DC=sync,DC=test" */
  adminDN: string;
  /** "Administrator@sync.test" (binding as the UPN works too) */
  adminUPN: string;
  /** Random per template (machine); meets AD complexity. */
  adminPassword: string;
  /** PEM CA certificate that verifies the DC's certificate (in dir/private/tls). */
  caFile: string;
  /** The clone's directory: etc/smb.conf, private/sam.ldb, samba.out (samba's log). Removed by stop(). */
  dir: string;
  /** samba's pid while it runs. */
  pid(): number | undefined;
  /** Milliseconds of the last clone (cp -a + smb.conf) and of the last start (spawn until 636 accepts). */
  timings: { cloneMs: number; startMs: number };
  /** SIGTERM, wait (SIGKILL after 15 s), remove dir and free the address. Final; safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL now (a DC that dies mid-export) and wait for the exit; the data and the address stay. */
  kill(): Promise<void>;
  /** Starts samba again on the same data and address after kill(); waits until 636 answers. Rejects after stop(). */
  start(): Promise<void>;
  /**
   * Runs `ldapsearch -LLL -o ldif-wrap=no -H <url> -x -D <adminDN> -w <pw> ...args` with
   * LDAPTLS_CACERT=caFile; resolves with stdout, rejects with an Error whose message holds stderr
   * (also `.stderr`, `.exitCode`).
   */
  ldapsearch(args: string[]): Promise<string>;
  /** The same for `ldapmodify`, reading the LDIF on stdin. */
  ldapmodify(ldif: string): Promise<string>;
}

export interface DomainControllerOptions {
  /** Extra smb.conf [global] lines, "name = value"; each replaces any line for the same name. */
  extraConf?: string[];
  /** A fixed address 127.0.0.N (1..254); default the first free of 127.0.0.2–254. */
  ip?: string;
  /** Where the clone goes (new, empty, or an earlier clone to start again); default a new temp dir. Kept by stop(). */
  dir?: string;
  /** Outlive this process (scripts/start-samba-dc.sh); stop it with stopDomainControllerDir(dir). */
  detached?: boolean;
}

/**
 * Starts a throw-away Samba AD DC (realm SYNC.TEST) cloned from a template provisioned once per
 * machine and Samba version ($TMPDIR/idsync-samba-template-<version>). Killed and removed when the
 * process exits. Throws, naming the packages to install, when Samba is missing.
 */
export function startDomainController(options?: DomainControllerOptions): Promise<DomainController>;

/** samba, samba-tool and /usr/share/samba/setup are present. */
export function sambaAvailable(): boolean;

/** "4.17.12-Debian" */
export function sambaVersion(): string;

/** $TMPDIR/idsync-samba-template-<version> */
export function templateDir(): string;

/** The template, provisioned now if missing (once across processes). */
export function ensureTemplate(): Promise<{ dir: string; recipe: number; samba: string; root: string; adminPassword: string; provisionSeconds: number }>;

/** Stops the DC whose clone is dir (started by any process), frees its address, removes dir if the harness made it. */
export function stopDomainControllerDir(dir: string): Promise<{ stopped: boolean; removed: boolean; pid?: number }>;

export const REALM: string;
export const BASE_DN: string;
export const ADMIN_DN: string;
export const ADMIN_UPN: string;
