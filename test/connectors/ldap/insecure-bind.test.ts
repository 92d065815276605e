// A simple bind sends the password as it is. Over plain ldap:// without StartTLS the connector
// refuses to bind with a password unless the MA says allowInsecureBind: true — before it reads the
// Secret or opens a connection, so whatever listens at `url` receives nothing. The CLI runs the
// same connector, so it refuses too.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import yaml from "js-yaml";
import type { ManagementAgent } from "../../../src/config/model.ts";
import { createLdapConnector } from "../../../src/connectors/ldap/index.ts";
import { recordingListener, type RecordingListener } from "../../harness/listener.ts";
import { testDatabase, type TestDatabase } from "../../harness/postgres.ts";
import { idsync } from "../../engine/cli-process.ts";
import { personType } from "./helpers.ts";

const PASSWORD = "never-in-clear-text-4711";

function directory(ldap: Record<string, unknown>): ManagementAgent {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name: "directory" },
    spec: {
      connector: { type: "ldap", ldap: { bindDN: "cn=idsync,dc=example,dc=org", passwordSecretRef: { name: "ldap-bind", key: "password" }, baseDN: "dc=example,dc=org", ...ldap } as never },
      objectTypes: [personType([{ name: "entryUUID" }, { name: "uid" }])],
    },
  };
}

describe("a password bind over plain ldap://", () => {
  let listener: RecordingListener;
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    [listener, db] = await Promise.all([recordingListener(), testDatabase("ldap_insecure_bind")]);
    dir = mkdtempSync(join(tmpdir(), "idsync-insecure-bind-"));
  });
  after(async () => {
    await Promise.all([listener?.close(), db?.drop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("is refused before the Secret is read or a connection opened, naming the MA and the field", async () => {
    let secretsRead = 0;
    const ctx = { baseDir: dir, secret: async () => (secretsRead++, PASSWORD) };
    for (const ldap of [{ url: listener.url }, { url: listener.url, startTLS: false, allowInsecureBind: false }]) {
      assert.throws(
        () => createLdapConnector(directory(ldap), ctx),
        /^Error: ManagementAgent directory: spec\.connector\.ldap\.allowInsecureBind: binding as cn=idsync,dc=example,dc=org would send the password unencrypted to ldap:\/\/127\.0\.0\.1:\d+: use ldaps:\/\/, or startTLS: true, or set allowInsecureBind: true/,
      );
    }
    assert.equal(secretsRead, 0);
    assert.equal(listener.connections, 0);

    // What sends no password in clear text needs no flag: TLS from the start, StartTLS, an anonymous bind.
    for (const ldap of [{ url: "ldaps://127.0.0.1:636" }, { url: listener.url, startTLS: true }, { url: listener.url, allowInsecureBind: true }]) {
      await createLdapConnector(directory(ldap), ctx).close();
    }
    const anonymous = directory({ url: listener.url });
    delete anonymous.spec.connector.ldap!.bindDN;
    delete anonymous.spec.connector.ldap!.passwordSecretRef;
    await createLdapConnector(anonymous, ctx).close();
  });

  it("is refused by the command line too, and the listener receives nothing", async () => {
    writeFileSync(join(dir, "directory.yaml"), yaml.dump(directory({ url: listener.url })));
    const r = await idsync(["--database", db.url, "run", "directory", "full-import", "-f", dir], { env: { IDSYNC_SECRET_LDAP_BIND_PASSWORD: PASSWORD } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /ManagementAgent directory: spec\.connector\.ldap\.allowInsecureBind: binding as cn=idsync,dc=example,dc=org would send the password unencrypted/);
    assert.ok(!(r.stdout + r.stderr).includes(PASSWORD));
    assert.equal(listener.connections, 0, "no connection was opened");
    assert.ok(!listener.saw(PASSWORD));
  });
});
