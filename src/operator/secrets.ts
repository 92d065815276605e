// Connector credentials from Kubernetes Secrets. A ManagementAgent names a Secret and a key
// (passwordSecretRef, connectionSecretRef); the Secret is read from the MA's own namespace, out of
// the watched cache (no API call per run). Values are returned to the connector only: errors name
// the Secret and the key, never a value.
//
// Secrets are opt-in. Whoever may write a ManagementAgent also chooses where its connector connects
// (spec.connector.ldap.url), and the Secret it names is sent there: without a limit, an MA could
// collect any Secret of its namespace. So the operator uses only Secrets meant for it — labelled
// idsync.dev/secret: "true", or named in the operator's --allowed-secret list (the chart's
// secrets.allowedNames) — and only in the MA's own namespace. The informers ask the API server for
// those alone (a label selector, and a field selector per listed name), so other Secrets never
// reach the operator's memory; the store checks the label or the list again before handing a value out.
import type { ManagementAgent, SecretKeyRef } from "../config/model.ts";
import { Informer, type InformerOptions, type KubeObject, type ListPage } from "./informer.ts";
import type { KubeClients } from "./kube.ts";

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

/** The label that makes a Secret usable by idsync, and its one accepted value. */
export const SECRET_OPT_IN_LABEL = "idsync.dev/secret";
export const SECRET_OPT_IN_SELECTOR = `${SECRET_OPT_IN_LABEL}=true`;

/** What an MA's status says when a Secret is not usable: the operator cannot tell "absent" from "not opted in", it never sees the latter. */
const HOW_TO_OPT_IN = `idsync uses only Secrets in the MA's own namespace that carry the label ${SECRET_OPT_IN_LABEL}: "true" or are named in the operator's --allowed-secret list (Helm value secrets.allowedNames)`;

/** A Secret named in --allowed-secret: `name` in every watched namespace, or `namespace/name`. */
export interface AllowedSecret {
  namespace?: string;
  name: string;
}

const DNS_LABEL = "[a-z0-9](?:[-a-z0-9]*[a-z0-9])?";
const DNS_SUBDOMAIN = `${DNS_LABEL}(?:\\.${DNS_LABEL})*`;
const ALLOWED_ENTRY = new RegExp(`^(?:(${DNS_LABEL})/)?(${DNS_SUBDOMAIN})$`);

/** Parses --allowed-secret values (each may hold several, comma-separated); throws on one that names no Secret. */
export function parseAllowedSecrets(values: readonly string[] | undefined): AllowedSecret[] {
  const out = new Map<string, AllowedSecret>();
  for (const entry of (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean)) {
    const m = ALLOWED_ENTRY.exec(entry);
    if (!m || m[2].length > 253) throw new Error(`--allowed-secret: "${entry}" is not a Secret name or namespace/name`);
    out.set(entry, m[1] ? { namespace: m[1], name: m[2] } : { name: m[2] });
  }
  return [...out.values()];
}

function isListed(allowed: readonly AllowedSecret[], namespace: string | undefined, name: string): boolean {
  return allowed.some((a) => a.name === name && (a.namespace === undefined || a.namespace === namespace));
}

/** Whether idsync may use this Secret: opted in by its label, or listed by the operator's installer. */
export function isUsableSecret(secret: SecretObject, allowed: readonly AllowedSecret[]): boolean {
  const labels = secret.metadata.labels as Record<string, string> | undefined;
  return labels?.[SECRET_OPT_IN_LABEL] === "true" || isListed(allowed, secret.metadata.namespace, secret.metadata.name);
}

/** The Secret references an MA's connector settings hold. */
export function secretRefsOf(ma: Pick<ManagementAgent, "spec">): SecretKeyRef[] {
  const c = ma.spec?.connector;
  const refs = [c?.ldap?.passwordSecretRef, c?.activeDirectory?.passwordSecretRef, c?.postgres?.connectionSecretRef];
  return refs.filter((r): r is SecretKeyRef => !!r && typeof r.name === "string" && typeof r.key === "string");
}

function secretInformer(
  clients: Pick<KubeClients, "core" | "watch">,
  namespace: string | undefined,
  selector: { labelSelector?: string; fieldSelector?: string },
  common: Partial<InformerOptions<SecretObject>>,
): Informer<SecretObject> {
  // client-node's Watch appends its own parameters to the path's query, so the selector rides along.
  const query = new URLSearchParams(Object.entries(selector).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : `/api/v1/secrets`;
  return new Informer<SecretObject>({
    ...common,
    name: selector.fieldSelector ? `secrets(${selector.fieldSelector})` : "secrets",
    watch: clients.watch,
    watchPath: `${path}?${query}`,
    list: async ({ limit, continue: _continue }) =>
      (namespace
        ? await clients.core.listNamespacedSecret({ namespace, ...selector, limit, _continue })
        : await clients.core.listSecretForAllNamespaces({ ...selector, limit, _continue })) as unknown as ListPage<SecretObject>,
  });
}

/**
 * The informers of the Secrets idsync may use, in the watched namespace (undefined: all): one for
 * the opt-in label, one per listed name. A listed `namespace/name` outside the watched namespace
 * can serve no MA and gets none.
 */
export function secretInformers(
  clients: Pick<KubeClients, "core" | "watch">,
  namespace: string | undefined,
  allowed: readonly AllowedSecret[],
  common: Partial<InformerOptions<SecretObject>>,
): Informer<SecretObject>[] {
  const informers = [secretInformer(clients, namespace, { labelSelector: SECRET_OPT_IN_SELECTOR }, common)];
  for (const a of allowed) {
    if (namespace && a.namespace && a.namespace !== namespace) {
      common.logger?.warn("--allowed-secret names a Secret outside the watched namespace: ignored", { secret: `${a.namespace}/${a.name}`, namespace });
      continue;
    }
    informers.push(secretInformer(clients, a.namespace ?? namespace, { fieldSelector: `metadata.name=${a.name}` }, common));
  }
  return informers;
}

export class SecretStore {
  /** `sources`: the informers of secretInformers (any cache answering get will do). */
  constructor(
    private readonly sources: ReadonlyArray<Pick<Informer<SecretObject>, "get">>,
    private readonly allowed: readonly AllowedSecret[] = [],
  ) {}

  private usable(namespace: string | undefined, name: string): SecretObject | undefined {
    if (!namespace) return undefined;
    for (const source of this.sources) {
      const secret = source.get(namespace, name);
      if (secret && isUsableSecret(secret, this.allowed)) return secret;
    }
    return undefined;
  }

  /** Why this reference cannot be used, or undefined when its value is there. Never a value. */
  problem(namespace: string | undefined, ref: SecretKeyRef): string | undefined {
    const secret = this.usable(namespace, ref.name);
    if (!secret) return `Secret ${namespace ?? ""}/${ref.name} not found among the Secrets idsync may use: ${HOW_TO_OPT_IN}`;
    if (secret.data?.[ref.key] === undefined) return `Secret ${namespace}/${ref.name} has no key '${ref.key}'`;
    return undefined;
  }

  resolve(namespace: string | undefined, name: string, key: string): string {
    const problem = this.problem(namespace, { name, key });
    if (problem) throw new Error(problem);
    return Buffer.from(this.usable(namespace, name)!.data![key], "base64").toString("utf8");
  }
}
