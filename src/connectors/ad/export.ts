// What Active Directory adds to LDAP export (the protocol part is ../ldap/export.ts):
// - a new user gets a random initial password (unicodePwd, in the add itself, never stored or
//   shown), userAccountControl NORMAL_ACCOUNT with ACCOUNTDISABLE from `accountEnabled`, and
//   pwdLastSet 0 (must change at first logon) unless mustChangePassword is false;
// - `accountEnabled` changes become a replace of userAccountControl with only that bit changed
//   (the current value is read first: AD keeps other flags there, like DONT_EXPIRE_PASSWORD);
// - sAMAccountName is checked against AD's limits before sending, so the error names the value;
// - containers are deleted with the Tree Delete control;
// - AD's extended error text (0000052D, 00002071, …) becomes a readable per-object error.
import { Attribute, Change } from "ldapts";
import type { Attributes, ExportOperation, ValueChange } from "../types.ts";
import { diagnostic } from "../ldap/connection.ts";
import { isWithin } from "../ldap/dn.ts";
import { ObjectFailure, type ExportDialect, type Job } from "../ldap/export.ts";
import type { LdapTypePlan } from "../ldap/settings.ts";
import { treeDeleteControl } from "./controls.ts";
import { explainAdResult, isStaleValueError } from "./errors.ts";
import { randomInitialPassword, unicodePwd } from "./password.ts";
import type { AdSettings, AdTypePlan } from "./settings.ts";
import { UAC, asBoolean, withEnabled } from "./values.ts";

// Characters AD refuses in a sAMAccountName (besides control characters); it may not end in ".".
const SAM_FORBIDDEN = /["/\\[\]:;|=,+*?<>@\u0000-\u001f]/;
const SAM_MAX = 20;

/** Why a sAMAccountName would be refused by AD, or undefined when it is acceptable. */
export function samAccountNameProblem(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = String(value);
  if (s.length === 0) return "is empty";
  if (s.length > SAM_MAX) return `is ${s.length} characters long; AD allows at most ${SAM_MAX}`;
  const bad = SAM_FORBIDDEN.exec(s);
  if (bad) return `holds ${JSON.stringify(bad[0])}, which AD does not allow (" / \\ [ ] : ; | = , + * ? < > @ and control characters)`;
  if (s.endsWith(".")) return "ends with a period, which AD does not allow";
  return undefined;
}

function checkSam(op: ExportOperation, value: unknown): void {
  const problem = samAccountNameProblem(value);
  if (problem) {
    const who = ("dn" in op && op.dn) || op.anchor || op.id;
    throw new ObjectFailure("invalidAccountName", `${op.op} ${who}: sAMAccountName ${JSON.stringify(String(value))} ${problem}`, false);
  }
}

function findKey(attrs: object, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(attrs).find((k) => k.toLowerCase() === lower);
}

export interface AdDialectOptions {
  /** Library callers only (tests): the initial password of a new user instead of a random one. */
  initialPassword?: () => string;
}

/**
 * An object provisioned or moved outside the containers would never be imported again: its export
 * could never be confirmed. Refused before sending, naming the DN and the containers.
 */
function checkInContainers(op: ExportOperation, dn: string | undefined, containers: string[]): void {
  if (dn === undefined) return;
  let inside = false;
  try {
    inside = containers.some((c) => isWithin(dn, c));
  } catch {
    return; // not a DN: the server says what is wrong with it
  }
  if (!inside) {
    throw new ObjectFailure("outsideContainers", `${op.op} ${dn}: not under the MA's containers (${containers.join("; ")}); check the rule's dn or deprovisionDN`, false);
  }
}

export function adDialect(settings: AdSettings, options: AdDialectOptions): ExportDialect {
  const plans = (plan: LdapTypePlan | undefined) => plan as AdTypePlan | undefined;
  const encrypted = /^ldaps:/i.test(settings.ldap.url) || settings.ldap.startTLS;
  return {
    check(op) {
      if (op.op === "delete") return;
      checkInContainers(op, op.op === "add" ? op.dn : op.newDn, settings.containers);
      const values = op.op === "add" ? op.attrs : op.changes;
      const samKey = findKey(values, "sAMAccountName");
      if (samKey) checkSam(op, op.op === "add" ? op.attrs[samKey] : op.changes[samKey].replace);
    },

    add(op, p) {
      const plan = plans(p);
      const attrs: Attributes = { ...op.attrs };
      const extra: Attribute[] = [];
      const enabledKey = plan?.accountEnabled ? findKey(attrs, plan.accountEnabled.name) : undefined;
      const enabledValue = enabledKey ? asBoolean(attrs[enabledKey]) : undefined;
      if (enabledKey) delete attrs[enabledKey];
      if (plan?.isUser) {
        // Never over a plain connection; settings refuse one already, this is the last line.
        if (!encrypted) throw new ObjectFailure("unwillingToPerform", `add ${op.dn}: an initial password is only ever sent over TLS`, false);
        const uacKey = findKey(attrs, "userAccountControl");
        const declared = uacKey !== undefined ? Number(attrs[uacKey]) : NaN;
        if (uacKey) delete attrs[uacKey];
        const base = Number.isInteger(declared) ? declared & ~UAC.PASSWD_NOTREQD : UAC.NORMAL_ACCOUNT;
        // Enabled unless a flow says otherwise: the account gets a password in the same add.
        const uac = withEnabled(base, enabledValue !== false);
        const password = options.initialPassword?.() ?? randomInitialPassword();
        extra.push(new Attribute({ type: "unicodePwd", values: [unicodePwd(password)] }));
        extra.push(new Attribute({ type: "userAccountControl", values: [String(uac)] }));
        const pwdKey = findKey(attrs, "pwdLastSet");
        if (pwdKey) delete attrs[pwdKey];
        if (settings.mustChangePassword) extra.push(new Attribute({ type: "pwdLastSet", values: ["0"] }));
      }
      return { attrs, extra };
    },

    async update(op, dn, job) {
      const plan = plans(job.plan);
      const changes: Record<string, ValueChange> = { ...op.changes };
      const extra: Change[] = [];
      const enabledKey = plan?.accountEnabled ? findKey(changes, plan.accountEnabled.name) : undefined;
      if (!enabledKey) return { changes, extra };
      const enabled = asBoolean(changes[enabledKey].replace);
      delete changes[enabledKey];
      if (enabled === undefined) return { changes, extra }; // no value: leave the account as it is
      const uacKey = findKey(changes, "userAccountControl");
      let current = uacKey !== undefined ? Number(changes[uacKey].replace) : NaN;
      if (uacKey) delete changes[uacKey];
      if (!Number.isInteger(current)) current = await currentAccountControl(job, dn);
      extra.push(new Change({ operation: "replace", modification: new Attribute({ type: "userAccountControl", values: [String(withEnabled(current, enabled))] }) }));
      return { changes, extra };
    },

    deleteControls: (plan) => ((plans(plan)?.treeDelete ?? false) ? [treeDeleteControl()] : []),

    staleValues: (err) => isStaleValueError(diagnostic(err)),

    explain: (err) => explainAdResult(err.code, diagnostic(err)),
  };
}

async function currentAccountControl(job: Job, dn: string): Promise<number> {
  const res = await job.client.search(dn, { scope: "base", filter: "(objectClass=*)", attributes: ["userAccountControl"] });
  const raw = res.searchEntries[0]?.userAccountControl;
  const v = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isInteger(v) ? v : UAC.NORMAL_ACCOUNT;
}
