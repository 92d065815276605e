// AD's extended error texts, explained: the Windows code decides the per-object error's code.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bindFailureReason, explainAdError, isStaleValueError } from "../../../src/connectors/ad/errors.ts";

test("a password the domain's policy refuses", () => {
  const e = explainAdError("0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be equal or longer than 7 characters!");
  assert.equal(e?.code, "passwordPolicy");
  assert.equal(e?.retryable, false);
  assert.match(e!.message, /password policy/);
  assert.match(e!.message, /0000052D: Constraint violation/, "AD's own text is kept");
});

test("an object that already exists, and missing rights (Windows AD's forms)", () => {
  assert.equal(explainAdError("00002071: UpdErr: DSID-031B0D8E, problem 6005 (ENTRY_EXISTS), data 0")?.code, "alreadyExists");
  assert.equal(explainAdError("00000005: SecErr: DSID-03152857, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0")?.code, "insufficientRights");
  assert.equal(explainAdError("0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT), data 0")?.retryable, true);
});

test("text without a Windows code is left to the generic LDAP description", () => {
  assert.equal(explainAdError("Entry already exists"), undefined);
  assert.equal(explainAdError("12345678: not a code we know"), undefined);
});

test("a failed bind's data code in words", () => {
  assert.equal(bindFailureReason("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 773, v4563"), "the user must change the password at next logon");
  assert.equal(bindFailureReason("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563"), "wrong password");
});

test("errors that mean our idea of the current values is stale", () => {
  assert.equal(isStaleValueError("00000561: SvcErr: DSID-031A1254, problem 5003 (WILL_NOT_PERFORM), data 0"), true, "not a member");
  assert.equal(isStaleValueError("00000562: UpdErr: DSID-031A11F6, problem 6005 (ENTRY_EXISTS), data 0"), true, "already a member");
  assert.equal(isStaleValueError("00002035: Unable to find GUID for DN cn=old,ou=people,dc=sync,dc=test"), true, "a member DN that moved on (Samba)");
  assert.equal(isStaleValueError("00002035: objectclass: modify message must have elements/attributes!"), false, "other refusals are not");
});

test("a taken account name is told apart from a DN clash", () => {
  const e = explainAdError("00002071: samldb: samAccountName 'nokafor' already in use!");
  assert.equal(e?.code, "accountNameTaken");
  assert.match(e!.message, /already used by another object in the domain/);
  assert.equal(explainAdError("00002071: UpdErr: DSID-031B0D8E, problem 6005 (ENTRY_EXISTS), data 0")?.code, "alreadyExists");
});
