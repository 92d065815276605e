// ldaps:// and StartTLS: the certificate is checked against tls.caFile; insecureSkipVerify only when set.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ConnectorUnavailableError } from "../../../src/connectors/errors.ts";
import { createLdapConnector } from "../../../src/connectors/ldap/index.ts";
import type { Connector } from "../../../src/connectors/types.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, importAll, ldapMA, peopleLdif, personType } from "./helpers.ts";

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd({ tls: true });
  await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 2));
});
after(() => slapd.stop());

const type = personType([{ name: "uid" }]);

async function count(c: Connector): Promise<number> {
  try {
    return (await importAll(c)).objects.length;
  } finally {
    await c.close();
  }
}

test("ldaps:// with the CA file", async () => {
  assert.equal(await count(connectorFor(slapd, [type], { url: slapd.ldapsUrl, tls: { caFile: slapd.caFile } })), 2);
});

test("StartTLS with the CA file (a relative path is relative to the YAML's directory)", async () => {
  assert.equal(await count(connectorFor(slapd, [type], { startTLS: true, tls: { caFile: "cert.pem" } })), 2);
});

test("an untrusted certificate is refused unless insecureSkipVerify is set", async () => {
  const refused = await count(connectorFor(slapd, [type], { url: slapd.ldapsUrl })).catch((e: unknown) => e);
  assert.ok(refused instanceof ConnectorUnavailableError, String(refused));
  assert.match(refused.message, /ldaps:\/\/127\.0\.0\.1/);
  const refusedStartTLS = await count(connectorFor(slapd, [type], { startTLS: true })).catch((e: unknown) => e);
  assert.ok(refusedStartTLS instanceof ConnectorUnavailableError, String(refusedStartTLS));
  assert.equal(await count(connectorFor(slapd, [type], { url: slapd.ldapsUrl, tls: { insecureSkipVerify: true } })), 2);
});

test("a wrong password fails the bind with a message that names the DN, not the password", async () => {
  const bad = createLdapConnector(ldapMA(slapd, [type]), { baseDir: slapd.dir, secret: async () => "not-the-password" });
  const err = await count(bad).catch((e: unknown) => e);
  assert.ok(err instanceof ConnectorUnavailableError);
  assert.match(err.message, /bind as cn=idsync,dc=example,dc=org failed: invalidCredentials/);
  assert.ok(!err.message.includes("not-the-password"));
});
