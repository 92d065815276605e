// AD's extended error text, made readable. AD (and Samba) put a Windows error code in front of the
// diagnostic message ("0000052D: Constraint violation - …", "00002071: UpdErr: DSID-…, problem 6005
// (ENTRY_EXISTS)") and a "data NNN" sub-code in bind failures ("…, data 52e, v4563"). The LDAP
// result code alone ("constraintViolation") hides which of a dozen causes it was.

interface Known {
  code: string;
  explanation: string;
  /** false when the same write will fail again until someone changes data or rights. */
  retryable: boolean;
}

const WINDOWS_ERRORS: Record<number, Known> = {
  0x5: { code: "insufficientRights", explanation: "the bind account lacks the rights for this operation", retryable: false },
  0x1f: { code: "unwillingToPerform", explanation: "the domain controller refused the operation (a password is only ever written over an encrypted connection)", retryable: false },
  0x57: { code: "invalidParameter", explanation: "a value is not acceptable to the domain controller", retryable: false },
  0x524: { code: "accountExists", explanation: "an account with this sAMAccountName or userPrincipalName already exists", retryable: false },
  0x525: { code: "noSuchUser", explanation: "the user does not exist", retryable: true },
  0x52d: { code: "passwordPolicy", explanation: "the password does not meet the domain's password policy (length, complexity, history or minimum age)", retryable: false },
  0x561: { code: "memberNotInGroup", explanation: "the member to remove is not in the group", retryable: true },
  0x562: { code: "memberInGroup", explanation: "the member to add is already in the group", retryable: true },
  0x2035: { code: "unwillingToPerform", explanation: "the domain controller will not make this change", retryable: false },
  0x202f: { code: "constraintViolation", explanation: "a value breaks a constraint of the domain (a userPrincipalName already in use, a value too long)", retryable: false },
  0x2071: { code: "alreadyExists", explanation: "an object with this name already exists in that container", retryable: false },
  0x208d: { code: "noSuchObject", explanation: "the object or its parent container does not exist", retryable: true },
  0x2085: { code: "objectClassViolation", explanation: "the values do not fit the object's class (a required attribute missing, or one its class does not allow)", retryable: false },
  0x20e7: { code: "notAllowedOnNonLeaf", explanation: "the object has children; a tree delete is needed", retryable: false },
  0x2077: { code: "illegalModify", explanation: "this attribute cannot be changed this way", retryable: false },
};

/** Sub-codes of a failed bind ("data 52e"). */
const BIND_DATA: Record<string, string> = {
  "525": "no such user",
  "52e": "wrong password",
  "530": "not permitted to log on at this time",
  "531": "not permitted to log on at this workstation",
  "532": "password expired",
  "533": "account disabled",
  "701": "account expired",
  "773": "the user must change the password at next logon",
  "775": "account locked out",
};

export interface AdError {
  code: string;
  message: string;
  retryable: boolean;
}

/**
 * What an AD diagnostic message says, or undefined when it carries no Windows error code. The
 * original text is kept after the explanation: it is what an AD administrator searches for.
 */
export function explainAdError(diagnostic: string): AdError | undefined {
  const m = /^([0-9A-Fa-f]{8}):\s*/.exec(diagnostic.trim());
  if (!m) return undefined;
  const value = parseInt(m[1], 16);
  const known = WINDOWS_ERRORS[value];
  const data = /\bdata ([0-9a-f]{3,8})\b/i.exec(diagnostic)?.[1]?.toLowerCase();
  const detail = data && BIND_DATA[data] ? `${BIND_DATA[data]}; ` : "";
  if (!known) return undefined;
  // AD answers ENTRY_EXISTS for a taken account name too, wherever the other object is.
  if (value === 0x2071 && /samaccountname|userprincipalname|already in use/i.test(diagnostic)) {
    return { code: "accountNameTaken", message: `the account name is already used by another object in the domain; ${diagnostic.trim()}`, retryable: false };
  }
  return { code: known.code, message: `${known.explanation}; ${detail}${diagnostic.trim()}`, retryable: known.retryable };
}

// Errors that mean our idea of an attribute's current values is out of date: read them and retry.
const STALE_VALUES = new Set([0x561, 0x562]);

export function isStaleValueError(diagnostic: string): boolean {
  const m = /^([0-9A-Fa-f]{8}):/.exec(diagnostic.trim());
  if (m === null) return false;
  const code = parseInt(m[1], 16);
  // 0x2035 is AD's generic "unwilling to perform"; Samba says so for a member DN that no longer resolves.
  return STALE_VALUES.has(code) || (code === 0x2035 && /find GUID for DN/i.test(diagnostic));
}

// When the DC gives no Windows code (Samba often does not), the LDAP result code still says enough.
const BY_RESULT_CODE: Record<number, number> = { 50: 0x5, 68: 0x2071 };

/** explainAdError, falling back on the LDAP result code; undefined: the generic LDAP description. */
export function explainAdResult(resultCode: number, diagnostic: string): AdError | undefined {
  const own = explainAdError(diagnostic);
  if (own) return own;
  const known = WINDOWS_ERRORS[BY_RESULT_CODE[resultCode]];
  return known ? { code: known.code, message: `${known.explanation}; ${diagnostic.trim()}`, retryable: known.retryable } : undefined;
}

/** "data 773" in a failed bind: why AD refused the credentials, in words. */
export function bindFailureReason(diagnostic: string): string | undefined {
  const data = /\bdata ([0-9a-f]{3,8})\b/i.exec(diagnostic)?.[1]?.toLowerCase();
  return data ? BIND_DATA[data] : undefined;
}
