// Connector credentials from Kubernetes Secrets. A ManagementAgent names a Secret and a key
// (passwordSecretRef, connectionSecretRef); the Secret is read from the MA's own namespace, out of
// the watched cache (no API call per run). Values are returned to the connector only: errors name
// the Secret and the key, never a value.
import type { ManagementAgent, SecretKeyRef } from "../config/model.ts";
import type { Informer, KubeObject } from "./informer.ts";

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

/** The Secret references an MA's connector settings hold. */
export function secretRefsOf(ma: Pick<ManagementAgent, "spec">): SecretKeyRef[] {
  const c = ma.spec?.connector;
  const refs = [c?.ldap?.passwordSecretRef, c?.postgres?.connectionSecretRef];
  return refs.filter((r): r is SecretKeyRef => !!r && typeof r.name === "string" && typeof r.key === "string");
}

export class SecretStore {
  constructor(private readonly informer: Pick<Informer<SecretObject>, "get">) {}

  /** What is missing for this reference, or undefined when the value is there. */
  problem(namespace: string | undefined, ref: SecretKeyRef): string | undefined {
    const secret = this.informer.get(namespace, ref.name);
    if (!secret) return `Secret ${namespace ?? ""}/${ref.name} not found`;
    if (secret.data?.[ref.key] === undefined) return `Secret ${namespace ?? ""}/${ref.name} has no key '${ref.key}'`;
    return undefined;
  }

  resolve(namespace: string | undefined, name: string, key: string): string {
    const problem = this.problem(namespace, { name, key });
    if (problem) throw new Error(problem);
    return Buffer.from(this.informer.get(namespace, name)!.data![key], "base64").toString("utf8");
  }
}
