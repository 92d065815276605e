// Secrets are opt-in. Whoever writes a ManagementAgent chooses where its connector connects, so an
// MA in a hostile namespace points `url` at a listener of its own that records every byte, and
// names Secrets of its namespace. The operator uses only Secrets labelled idsync.dev/secret: "true"
// or listed with --allowed-secret, in the MA's namespace, and never sends a password over plain
// ldap:// unless the MA says allowInsecureBind: true. Each refusal is explained in the MA's status;
// no password appears in the listener's bytes, the logs, a status or an Event.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { peopleLdif } from "../connectors/ldap/helpers.ts";
import { recordingListener, type RecordingListener } from "../harness/listener.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { startSlapd, type Slapd } from "../harness/slapd.ts";
import { annotate, apply, condition, eventually, get, MERGE, NS, startCluster, startOperator, type Cluster, type Obj, type RunningOperator } from "./helpers.ts";

const HOSTILE = "hostile";
const OPT_IN = { "idsync.dev/secret": "true" };
const NAMESPACE_PASSWORD = "namespace-secret-not-for-idsync";
const OPTED_IN_PASSWORD = "opted-in-but-not-in-clear-text";

function ldapMa(namespace: string, name: string, ldap: Record<string, unknown>): Obj {
  return {
    apiVersion: "idsync.dev/v1alpha1",
    kind: "ManagementAgent",
    metadata: { name, namespace },
    spec: {
      connector: { type: "ldap", ldap: { bindDN: "cn=idsync,dc=example,dc=org", baseDN: "ou=people,dc=example,dc=org", ...ldap } },
      objectTypes: [{ name: "person", anchor: ["entryUUID"], objectClasses: ["inetOrgPerson"], attributes: [{ name: "entryUUID" }, { name: "uid" }, { name: "cn" }] }],
    },
  };
}

describe("Secrets are opt-in", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let slapd: Slapd;
  let listener: RecordingListener;
  let operator: RunningOperator;
  const secret = (namespace: string, name: string, password: string, labels?: Record<string, string>) =>
    cluster.core.createNamespacedSecret({ namespace, body: { metadata: { name, labels }, stringData: { password } } });
  const ref = (name: string) => ({ passwordSecretRef: { name, key: "password" } });

  /**
   * The message of the MA's RunFailed Event that matches `pattern`: a new MA's import is requested
   * at once, and a run of an MA that cannot connect fails. (The Event, not status.lastRun: the full
   * sync that follows a new MA's import may succeed and be the last run.)
   */
  const runFailed = (namespace: string, name: string, pattern: RegExp) =>
    eventually(async () => {
      const events = await cluster.core.listNamespacedEvent({ namespace });
      return events.items.find((e) => e.involvedObject.name === name && e.reason === "RunFailed" && pattern.test(e.message ?? ""))?.message;
    }, `a RunFailed Event of ${namespace}/${name} matching ${pattern}`);

  /** Everything the operator wrote where people read: logs, every MA's status, Events. */
  async function shown(): Promise<string> {
    const mas = await Promise.all([NS, HOSTILE].map((namespace) => cluster.custom.listNamespacedCustomObject({ group: "idsync.dev", version: "v1alpha1", namespace, plural: "managementagents" })));
    const events = await Promise.all([NS, HOSTILE].map((namespace) => cluster.core.listNamespacedEvent({ namespace })));
    return [operator.logs.join("\n"), JSON.stringify(mas), JSON.stringify(events.map((e) => e.items))].join("\n");
  }

  before(async () => {
    [cluster, db, slapd, listener] = await Promise.all([startCluster(), testDatabase("operator_secret_opt_in"), startSlapd({ tls: true }), recordingListener()]);
    await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 2));
    await cluster.core.createNamespace({ body: { metadata: { name: HOSTILE } } });
    operator = startOperator(cluster, db.url, { allowedSecrets: ["listed-bind"] });
  });
  after(async () => {
    await operator?.stop();
    await Promise.all([db?.drop(), slapd?.stop(), listener?.close(), cluster?.close()]);
  });

  it("a Secret without the opt-in label is never sent, even to an MA that accepts an unencrypted bind, and the MA says why", async () => {
    await secret(HOSTILE, "prod-ldap", NAMESPACE_PASSWORD);
    await apply(cluster, ldapMa(HOSTILE, "exfil-unlabelled", { url: listener.url, allowInsecureBind: true, ...ref("prod-ldap") }));
    await runFailed(HOSTILE, "exfil-unlabelled", /^full-import failed: .*Secret hostile\/prod-ldap not found among the Secrets idsync may use/);
    const o = await eventually(async () => {
      const ma = await get(cluster, "ManagementAgent", "exfil-unlabelled", HOSTILE);
      return condition(ma, "Ready")?.reason === "SecretNotFound" ? ma : undefined;
    }, "Ready=False SecretNotFound");
    const ready = condition(o, "Ready")!;
    assert.equal(ready.status, "False");
    assert.match(ready.message, /^Secret hostile\/prod-ldap not found among the Secrets idsync may use: idsync uses only Secrets in the MA's own namespace that carry the label idsync\.dev\/secret: "true" or are named in the operator's --allowed-secret list/);
    assert.equal(listener.connections, 0, "no connection to the MA's url");
    assert.ok(!listener.saw(NAMESPACE_PASSWORD));
    assert.ok(!(await shown()).includes(NAMESPACE_PASSWORD));
  });

  it("an opted-in Secret is not sent over plain ldap:// without allowInsecureBind, and the MA says which field", async () => {
    await secret(HOSTILE, "ldap-opted", OPTED_IN_PASSWORD, OPT_IN);
    await apply(cluster, ldapMa(HOSTILE, "exfil-plain", { url: listener.url, ...ref("ldap-opted") }));
    const message = await runFailed(HOSTILE, "exfil-plain", /allowInsecureBind/);
    assert.match(message, /^full-import failed: ManagementAgent exfil-plain: spec\.connector\.ldap\.allowInsecureBind: binding as cn=idsync,dc=example,dc=org would send the password unencrypted to ldap:\/\/127\.0\.0\.1:\d+/);
    assert.equal(listener.connections, 0, "no connection to the MA's url");
    assert.ok(!listener.saw(OPTED_IN_PASSWORD));
    assert.ok(!(await shown()).includes(OPTED_IN_PASSWORD));
  });

  it("an opted-in Secret binds over StartTLS, and is no longer used once its label is removed", async () => {
    await secret(NS, "ldap-bind", slapd.password, OPT_IN);
    await apply(cluster, ldapMa(NS, "tls-directory", { url: slapd.url, startTLS: true, tls: { caFile: slapd.caFile }, ...ref("ldap-bind") }));
    const imported = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "tls-directory");
      return o?.status?.connectorSpace?.total === 2 && condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "the import to bind over StartTLS with the opted-in Secret");
    assert.equal(imported.status.lastRun.result, "success");

    await cluster.core.patchNamespacedSecret({ namespace: NS, name: "ldap-bind", body: { metadata: { labels: { "idsync.dev/secret": null } } } }, MERGE);
    const refused = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "tls-directory");
      return condition(o, "Ready")?.reason === "SecretNotFound" ? o : undefined;
    }, "Ready=False SecretNotFound once the label is gone");
    assert.match(condition(refused, "Ready")!.message, new RegExp(`^Secret ${NS}/ldap-bind not found among the Secrets idsync may use`));
    await annotate(cluster, "ManagementAgent", "tls-directory", { "idsync.dev/run": "full-import@unlabelled" });
    await runFailed(NS, "tls-directory", /^full-import failed: .*Secret idsync-test\/ldap-bind not found among the Secrets idsync may use/);
    assert.ok(!(await shown()).includes(slapd.password));
  });

  it("a Secret listed with --allowed-secret needs no label; an unlisted, unlabelled one beside it is not used", async () => {
    await secret(NS, "listed-bind", slapd.password);
    await secret(NS, "unlisted-bind", slapd.password);
    await apply(cluster, ldapMa(NS, "listed-directory", { url: slapd.url, allowInsecureBind: true, ...ref("listed-bind") }));
    await apply(cluster, ldapMa(NS, "unlisted-directory", { url: slapd.url, allowInsecureBind: true, ...ref("unlisted-bind") }));
    const listed = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "listed-directory");
      return o?.status?.connectorSpace?.total === 2 && condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "the import to bind (plain ldap://, allowInsecureBind) with the listed Secret");
    assert.equal(listed.status.lastRun.result, "success");
    await runFailed(NS, "unlisted-directory", /Secret idsync-test\/unlisted-bind not found among the Secrets idsync may use/);
    assert.equal(condition(await get(cluster, "ManagementAgent", "unlisted-directory"), "Ready")?.reason, "SecretNotFound");
    assert.ok(!(await shown()).includes(slapd.password));
  });
});
