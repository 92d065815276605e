// One bound connection per connector, re-established on demand, and the classification of errors
// into "the server said no to this operation" (an LDAP result code: per-object) and "the server
// cannot be reached" (everything else: the run stops, see ConnectorUnavailableError).
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { Client, ResultCodeError } from "ldapts";
import { ConnectorUnavailableError } from "../errors.ts";
import type { ConnectorContext } from "../types.ts";
import { FALLBACK_SCHEMA, readSchema, type DirectorySchema } from "./schema.ts";
import type { LdapSettings } from "./settings.ts";

/** RFC 4511 result names, used as ExportResult / ImportProblem codes. */
const RESULT_NAMES: Record<number, string> = {
  1: "operationsError",
  2: "protocolError",
  3: "timeLimitExceeded",
  4: "sizeLimitExceeded",
  7: "authMethodNotSupported",
  8: "strongerAuthRequired",
  10: "referral",
  11: "adminLimitExceeded",
  12: "unavailableCriticalExtension",
  13: "confidentialityRequired",
  16: "noSuchAttribute",
  17: "undefinedAttributeType",
  18: "inappropriateMatching",
  19: "constraintViolation",
  20: "attributeOrValueExists",
  21: "invalidAttributeSyntax",
  32: "noSuchObject",
  33: "aliasProblem",
  34: "invalidDNSyntax",
  36: "aliasDereferencingProblem",
  48: "inappropriateAuthentication",
  49: "invalidCredentials",
  50: "insufficientAccessRights",
  51: "busy",
  52: "unavailable",
  53: "unwillingToPerform",
  54: "loopDetect",
  64: "namingViolation",
  65: "objectClassViolation",
  66: "notAllowedOnNonLeaf",
  67: "notAllowedOnRDN",
  68: "entryAlreadyExists",
  69: "objectClassModsProhibited",
  71: "affectsMultipleDSAs",
  80: "other",
};

// Results that may succeed unchanged later: transient server states, or (noSuchObject on add) a
// parent entry that a later export creates.
const RETRYABLE = new Set([3, 11, 32, 51, 52, 53, 80]);
// Results that mean the server as a whole is not serving: handled like a lost connection.
const SERVER_DOWN = new Set([51, 52]);
// ldapts's NoResultError: the connection ended before the server answered.
const NO_RESULT = 248;

export function isResultError(err: unknown): err is ResultCodeError {
  return err instanceof ResultCodeError;
}

/** True when the error says nothing about the operation, only that the server is out of reach. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof ConnectorUnavailableError) return true;
  if (isResultError(err)) return SERVER_DOWN.has(err.code) || err.code === NO_RESULT;
  return true;
}

export function resultName(err: ResultCodeError): string {
  return RESULT_NAMES[err.code] ?? `ldapResult${err.code}`;
}

export function isRetryable(err: ResultCodeError): boolean {
  return RETRYABLE.has(err.code);
}

/** The server's diagnostic message without ldapts's " Code: 0x.." suffix. */
export function diagnostic(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*Code: 0x[0-9a-f]+$/i, "").trim();
}

export class LdapConnection {
  private client?: Client;
  private connecting?: Promise<Client>;
  private schemaPromise?: Promise<DirectorySchema>;
  private password?: string;

  constructor(
    private readonly settings: LdapSettings,
    private readonly ctx: ConnectorContext,
  ) {}

  /** A connected, bound client; connects (again) when there is none or the last one was lost. */
  async get(): Promise<Client> {
    const c = this.client;
    if (c && c.isConnected && (c.isBound || !this.settings.bindDN)) return c;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** The server schema (aliases, ;binary attributes), read once. */
  async schema(): Promise<DirectorySchema> {
    this.schemaPromise ??= this.get()
      .then((c) => readSchema(c))
      .catch((err) => {
        this.schemaPromise = undefined;
        if (isConnectionError(err)) throw err;
        return FALLBACK_SCHEMA;
      });
    return this.schemaPromise;
  }

  /** Drops the current connection so the next get() opens a fresh one. */
  discard(): void {
    const c = this.client;
    this.client = undefined;
    if (c) c.unbind().catch(() => undefined);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.unbind().catch(() => undefined);
  }

  private where(): string {
    return serverName(this.settings);
  }

  private tlsOptions(): ConnectionOptions {
    const s = this.settings;
    const host = new URL(s.url).hostname.replace(/^\[|\]$/g, "");
    const opts: ConnectionOptions = { host };
    if (!isIP(host)) opts.servername = host;
    if (s.caFile) {
      const path = resolve(this.ctx.baseDir, s.caFile);
      try {
        opts.ca = [readFileSync(path)];
      } catch (err) {
        throw new ConnectorUnavailableError(`${this.where()}: cannot read tls.caFile ${path}: ${(err as Error).message}`);
      }
    }
    // Only an explicit insecureSkipVerify turns certificate checks off.
    if (s.insecureSkipVerify) opts.rejectUnauthorized = false;
    return opts;
  }

  private async connect(): Promise<Client> {
    this.discard();
    const s = this.settings;
    const secure = s.url.toLowerCase().startsWith("ldaps:");
    const tls = secure || s.startTLS ? this.tlsOptions() : undefined;
    const client = new Client({
      url: s.url,
      timeout: s.timeoutMs,
      connectTimeout: Math.min(s.timeoutMs, 15_000),
      tlsOptions: secure ? tls : undefined,
    });
    try {
      if (s.startTLS) await client.startTLS(tls);
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw new ConnectorUnavailableError(`${this.where()}: cannot connect${s.startTLS ? " with StartTLS" : ""}: ${describe(err)}`, { cause: err });
    }
    if (s.bindDN) {
      // resolveSettings refuses this combination already; checked again at the one place a
      // password is sent, so no other path to connect() can send it in clear text.
      if (!secure && !s.startTLS && !s.allowInsecureBind) {
        await client.unbind().catch(() => undefined);
        throw new Error(`${this.where()}: refusing to send the bind password unencrypted (spec.connector.${s.connectorField}.allowInsecureBind is not set)`);
      }
      if (this.password === undefined) {
        const ref = s.passwordSecretRef!;
        this.password = await this.ctx.secret(ref.name, ref.key);
      }
      try {
        await client.bind(s.bindDN, this.password);
      } catch (err) {
        await client.unbind().catch(() => undefined);
        // Never the password: only who tried to bind and what the server answered.
        const why = isResultError(err) ? `bind as ${s.bindDN} failed: ${resultName(err)} ${diagnostic(err)}` : `cannot connect: ${describe(err)}`;
        throw new ConnectorUnavailableError(`${this.where()}: ${why.trim()}`, { cause: err });
      }
    } else if (!secure && !s.startTLS) {
      // Anonymous: make sure the server is there at all, so "unreachable" surfaces here.
      try {
        await client.search("", { scope: "base", attributes: ["1.1"] });
      } catch (err) {
        await client.unbind().catch(() => undefined);
        throw new ConnectorUnavailableError(`${this.where()}: cannot connect: ${describe(err)}`, { cause: err });
      }
    }
    this.client = client;
    return client;
  }
}

/** "ManagementAgent hr: LDAP ldaps://…" (or "Active Directory"): how messages name the server. */
export function serverName(settings: LdapSettings): string {
  return `ManagementAgent ${settings.ma}: ${settings.connectorField === "activeDirectory" ? "Active Directory" : "LDAP"} ${settings.url}`;
}

/** A short reason for a network-level failure (ECONNREFUSED, connection closed, timeout…). */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const text = err.message.split("\n").map((l) => l.trim()).filter(Boolean).join(": ");
    return code && !text.includes(code) ? `${code} ${text}` : text;
  }
  return String(err);
}
