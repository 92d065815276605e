// Connector credentials come from an opted-in Secret (label idsync.dev/secret: "true") in the MA's
// namespace (passwordSecretRef), read from the watched cache: while it is missing the MA says so
// (Ready=False, SecretNotFound); once it exists the LDAP import binds with it (plain ldap:// to the
// loopback slapd, which the MA accepts with allowInsecureBind). The password never shows in logs,
// status or Events.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startSlapd, type Slapd } from "../harness/slapd.ts";
import { testDatabase, type TestDatabase } from "../harness/postgres.ts";
import { peopleLdif } from "../connectors/ldap/helpers.ts";
import { annotate, apply, condition, eventually, get, NS, startCluster, startOperator, type Cluster, type RunningOperator } from "./helpers.ts";

describe("Secret credentials", () => {
  let cluster: Cluster;
  let db: TestDatabase;
  let slapd: Slapd;
  let operator: RunningOperator;
  before(async () => {
    [cluster, db, slapd] = await Promise.all([startCluster(), testDatabase("operator_secrets"), startSlapd()]);
    await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 2));
    operator = startOperator(cluster, db.url);
  });
  after(async () => {
    await operator?.stop();
    await Promise.all([db?.drop(), slapd?.stop(), cluster?.close()]);
  });

  it("are read from the MA's namespace, and never shown", async () => {
    await apply(cluster, {
      apiVersion: "idsync.dev/v1alpha1",
      kind: "ManagementAgent",
      metadata: { name: "directory", namespace: NS },
      spec: {
        connector: { type: "ldap", ldap: { url: slapd.url, bindDN: slapd.bindDN, passwordSecretRef: { name: "ldap-bind", key: "password" }, baseDN: `ou=people,${slapd.suffix}`, allowInsecureBind: true } },
        objectTypes: [{ name: "person", anchor: ["entryUUID"], objectClasses: ["inetOrgPerson"], attributes: [{ name: "entryUUID" }, { name: "uid" }, { name: "cn" }] }],
      },
    });
    const missing = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "directory");
      return condition(o, "Ready")?.reason === "SecretNotFound" ? o : undefined;
    }, "Ready=False SecretNotFound");
    assert.match(condition(missing, "Ready")!.message, new RegExp(`Secret ${NS}/ldap-bind not found`));

    await cluster.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "ldap-bind", labels: { "idsync.dev/secret": "true" } }, stringData: { password: slapd.password } } });
    await annotate(cluster, "ManagementAgent", "directory", { "idsync.dev/run": "full-import@secret" });
    const imported = await eventually(async () => {
      const o = await get(cluster, "ManagementAgent", "directory");
      return o?.status?.connectorSpace?.total === 2 && condition(o, "Ready")?.status === "True" ? o : undefined;
    }, "the import to bind with the Secret's password");
    assert.equal(imported.status.lastRun.result, "success");

    const events = await cluster.core.listNamespacedEvent({ namespace: NS });
    const shown = [operator.logs.join("\n"), JSON.stringify(imported), JSON.stringify(events.items)].join("\n");
    assert.ok(!shown.includes(slapd.password), "the password appears nowhere");
  });
});
