// Bearer-token authentication and RBAC authorization for the operator's service account, with the
// real authorizer's matching rules (wildcards, `*/status`, resourceNames) and its denial wording,
// so a verb missing from the chart's ClusterRole/Role fails a test the way it would fail in a cluster.
import { forbidden, unauthorized } from "./errors.ts";

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface RbacOptions {
  /** ClusterRole rules bound to the service account: they apply in every namespace. */
  rules: PolicyRule[];
  /** Role rules bound to the service account in one namespace each. */
  roleRules?: Array<{ namespace: string; rules: PolicyRule[] }>;
  serviceAccountToken: string;
  /** Requests bearing this token may do anything; without it configured, so may every other token. */
  adminToken?: string;
  /** The service account's namespace (default "default") and name (default "idsync"). */
  serviceAccountNamespace?: string;
  serviceAccountName?: string;
}

export interface User {
  name: string;
  groups: string[];
  /** Bypasses authorization (system:masters). */
  admin: boolean;
}

export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const ADMIN: User = { name: "admin", groups: ["system:masters", "system:authenticated"], admin: true };
const ANONYMOUS: User = { name: "system:anonymous", groups: ["system:unauthenticated"], admin: false };

export function authenticate(authorization: string | undefined, rbac: RbacOptions | undefined): User {
  if (!rbac) return ADMIN;
  const token = /^Bearer\s+(.+)$/i.exec(authorization ?? "")?.[1]?.trim();
  if (token === rbac.serviceAccountToken) {
    const ns = rbac.serviceAccountNamespace ?? "default";
    return {
      name: `system:serviceaccount:${ns}:${rbac.serviceAccountName ?? "idsync"}`,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
      admin: false,
    };
  }
  if (rbac.adminToken === undefined) return ADMIN;
  if (token === rbac.adminToken) return ADMIN;
  if (token === undefined) return ANONYMOUS;
  throw unauthorized();
}

function matches(values: string[] | undefined, wanted: string): boolean {
  return (values ?? []).some((v) => v === "*" || v === wanted);
}

function resourceMatches(rule: PolicyRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === "*" || r === combined || (subresource !== undefined && r === `*/${subresource}`),
  );
}

function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!matches(rule.verbs, a.verb) || !matches(rule.apiGroups, a.apiGroup)) return false;
  if (!resourceMatches(rule, a.resource, a.subresource)) return false;
  if (!rule.resourceNames?.length) return true;
  return a.name !== undefined && rule.resourceNames.includes(a.name);
}

/** Throws the real 403 Status when the user may not make this request. */
export function authorize(user: User, a: RequestAttributes, rbac: RbacOptions | undefined): void {
  if (user.admin || !rbac) return;
  const isServiceAccount = user.name.startsWith("system:serviceaccount:");
  const rules = isServiceAccount
    ? [...rbac.rules, ...(rbac.roleRules ?? []).filter((r) => a.namespace !== undefined && r.namespace === a.namespace).flatMap((r) => r.rules)]
    : [];
  if (rules.some((rule) => ruleAllows(rule, a))) return;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace !== undefined ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  throw forbidden(
    { group: a.apiGroup, plural: a.resource },
    a.name,
    `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${where}`,
  );
}
