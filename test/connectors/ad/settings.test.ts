// The activeDirectory block is checked before any connection: a plain bind is refused, and every
// error names the MA and the field.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ManagementAgent } from "../../../src/config/model.ts";
import { resolveAdSettings } from "../../../src/connectors/ad/settings.ts";

function ma(activeDirectory: Record<string, unknown>, objectTypes: ManagementAgent["spec"]["objectTypes"] = [{ name: "user", anchor: [], attributes: [{ name: "sAMAccountName" }] }]): ManagementAgent {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name: "corp" },
    spec: {
      connector: {
        type: "activeDirectory",
        activeDirectory: { url: "ldaps://dc1.corp.example", bindDN: "svc-idsync@corp.example", passwordSecretRef: { name: "ad", key: "password" }, baseDN: "DC=corp,DC=example", ...activeDirectory } as never,
      },
      objectTypes,
    },
  } as ManagementAgent;
}

test("plain ldap:// without StartTLS is refused, naming the field", () => {
  assert.throws(() => resolveAdSettings(ma({ url: "ldap://dc1.corp.example" })), /ManagementAgent corp: spec\.connector\.activeDirectory\.url: ldap:\/\/dc1\.corp\.example is plain LDAP/);
  assert.doesNotThrow(() => resolveAdSettings(ma({ url: "ldap://dc1.corp.example", startTLS: true })));
  assert.throws(() => resolveAdSettings(ma({ startTLS: true })), /startTLS: cannot be used with an ldaps:\/\/ url/);
});

test("bindDN may be a DN, a UPN or DOMAIN\\user", () => {
  for (const bindDN of ["CN=svc-idsync,OU=Service,DC=corp,DC=example", "svc-idsync@corp.example", "CORP\\svc-idsync"]) {
    assert.doesNotThrow(() => resolveAdSettings(ma({ bindDN })), bindDN);
  }
  assert.throws(() => resolveAdSettings(ma({ bindDN: "not a dn" })), /activeDirectory\.bindDN: is neither a DN/);
});

test("containers must lie under baseDN", () => {
  assert.throws(() => resolveAdSettings(ma({ containers: ["OU=People,DC=other,DC=example"] })), /containers\[0\]: OU=People,DC=other,DC=example is not under baseDN/);
  const { settings } = resolveAdSettings(ma({ containers: ["OU=People,DC=corp,DC=example"] }));
  assert.deepEqual(settings.containers, ["OU=People,DC=corp,DC=example"]);
});

test("user, group and contact get AD's object classes; a user type never reads computers", () => {
  const { types } = resolveAdSettings(
    ma({}, [
      { name: "user", anchor: [], attributes: [{ name: "accountEnabled", type: "boolean" }] },
      { name: "group", anchor: [], attributes: [] },
      { name: "contact", anchor: [], attributes: [] },
    ]),
  );
  assert.deepEqual(types[0].objectClasses, ["top", "person", "organizationalPerson", "user"]);
  assert.match(types[0].filter, /\(!\(objectClass=computer\)\)/);
  assert.equal(types[0].isUser, true);
  assert.equal(types[0].serverAnchor?.attribute, "objectGUID");
  assert.ok(types[0].attributes.some((a) => a.name === "userAccountControl"), "accountEnabled is read from userAccountControl");
  assert.ok(!types[0].attributes.some((a) => a.name === "accountEnabled"), "and is no AD attribute");
  assert.deepEqual(types[1].objectClasses, ["top", "group"]);
  assert.equal(types[2].isUser, false);
  assert.throws(() => resolveAdSettings(ma({}, [{ name: "printer", anchor: [], attributes: [] }])), /objectTypes\[0\] \(printer\)\.objectClasses: required/);
});
