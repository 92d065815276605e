// The Samba AD DC harness: two DCs side by side on their own loopback addresses, LDAPS with a
// verified certificate, TLS required for simple binds (as on Windows AD), kill()/start() keeps the
// data, stop() frees the address.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Client, type ClientOptions } from "ldapts";
import { startDomainController, type DomainController } from "./samba.ts";

/** A fresh options object per client: ldapts' startTLS mutates the one it is given. */
function tlsOptions(dc: DomainController): NonNullable<ClientOptions["tlsOptions"]> {
  return { ca: [readFileSync(dc.caFile)] };
}

function client(url: string, tls?: ClientOptions["tlsOptions"]): Client {
  return new Client({ url, tlsOptions: tls, timeout: 10_000, connectTimeout: 5_000 });
}

async function withAdmin<T>(dc: DomainController, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = client(dc.url, tlsOptions(dc));
  await c.bind(dc.adminDN, dc.adminPassword);
  try {
    return await fn(c);
  } finally {
    await c.unbind();
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

test("Samba AD DC harness: two DCs, verified LDAPS, strong auth, kill/start, stop", async (t) => {
  let t0 = Date.now();
  const [a, b] = await Promise.all([startDomainController(), startDomainController()]);
  t.diagnostic(`two DCs (template ready or provisioned) in ${Date.now() - t0} ms: ${a.ip} clone ${a.timings.cloneMs} ms start ${a.timings.startMs} ms; ${b.ip} clone ${b.timings.cloneMs} ms start ${b.timings.startMs} ms`);
  try {
    assert.notEqual(a.ip, b.ip);
    for (const dc of [a, b]) {
      assert.match(dc.ip, /^127\.0\.0\.(\d+)$/);
      assert.ok(Number(dc.ip.split(".")[3]) >= 2);
      assert.equal(dc.url, `ldaps://${dc.ip}:636`);
      assert.equal(dc.startTlsUrl, `ldap://${dc.ip}:389`);
      assert.equal(dc.baseDN, "DC=sync,DC=test");
      assert.equal(dc.adminDN, "CN=Administrator,CN=Users,DC=sync,DC=test");
      assert.ok(existsSync(join(tmpdir(), "idsync-samba-ips", dc.ip)), `no claim for ${dc.ip}`);
    }

    // LDAPS with certificate verification (IP SAN), admin bind by DN, rootDSE.
    const root = await withAdmin(a, async (c) => {
      const { searchEntries } = await c.search("", { scope: "base", attributes: ["defaultNamingContext", "dnsHostName", "supportedControl", "domainFunctionality"] });
      return searchEntries[0];
    });
    assert.equal(root.defaultNamingContext, "DC=sync,DC=test");
    assert.equal(String(root.dnsHostName).toLowerCase(), "dc1.sync.test");
    assert.ok((root.supportedControl as string[]).includes("1.2.840.113556.1.4.841"), "DirSync control not supported");

    // The UPN binds too, on the other DC.
    const c2 = client(b.url, tlsOptions(b));
    await c2.bind(b.adminUPN, b.adminPassword);
    await c2.unbind();

    // Without the CA the certificate is not trusted: the verification above was real.
    const untrusted = client(a.url, {});
    await assert.rejects(untrusted.bind(a.adminDN, a.adminPassword), /certificate|verify/i);
    await untrusted.unbind().catch(() => {});

    // Plain LDAP simple bind: refused (ldap server require strong auth = yes, the default).
    const plain = client(a.startTlsUrl);
    await assert.rejects(plain.bind(a.adminDN, a.adminPassword), (err: { code?: number }) => err.code === 8);
    await plain.unbind().catch(() => {});
    // StartTLS on 389 then bind: fine. ldapts' startTLS does not pass the URL's host to
    // tls.connect, so without `host` Node checks the certificate against "localhost" and fails.
    const stls = client(a.startTlsUrl);
    await stls.startTLS({ ...tlsOptions(a), host: a.ip });
    await stls.bind(a.adminDN, a.adminPassword);
    await stls.unbind();

    // The real ldapsearch, and the template's password policy (age/history relaxed, complexity on).
    const out = await a.ldapsearch(["-b", a.baseDN, "(sAMAccountName=Administrator)", "distinguishedName"]);
    assert.match(out, /^dn: CN=Administrator,CN=Users,DC=sync,DC=test$/m);
    const policy = await a.ldapsearch(["-b", a.baseDN, "-s", "base", "(objectClass=*)", "minPwdAge", "pwdHistoryLength", "pwdProperties"]);
    assert.match(policy, /^minPwdAge: 0$/m);
    assert.match(policy, /^pwdHistoryLength: 0$/m);
    assert.match(policy, /^pwdProperties: 1$/m, "password complexity should stay on");
    await assert.rejects(a.ldapsearch(["-b", "OU=Nowhere,DC=sync,DC=test", "(objectClass=*)"]), /No such object/);

    // kill() then start(): same address, and what was written before the kill is still there.
    await a.ldapmodify("dn: OU=Survivor,DC=sync,DC=test\nchangetype: add\nobjectClass: organizationalUnit\ndescription: written before kill\n");
    t0 = Date.now();
    await a.kill();
    const killMs = Date.now() - t0;
    assert.equal(await accepts(a.ip, 636), false, "636 still answers after kill()");
    await a.start();
    t.diagnostic(`kill ${killMs} ms, start again ${a.timings.startMs} ms`);
    const survived = await a.ldapsearch(["-b", "OU=Survivor,DC=sync,DC=test", "-s", "base", "(objectClass=*)", "description"]);
    assert.match(survived, /^description: written before kill$/m);
    const other = await b.ldapsearch(["-b", a.baseDN, "(ou=Survivor)", "dn"]);
    assert.doesNotMatch(other, /Survivor/, "the two DCs share data");

    // stop() frees the address and removes the clone.
    t0 = Date.now();
    await a.stop();
    t.diagnostic(`stop ${Date.now() - t0} ms`);
    assert.equal(existsSync(join(tmpdir(), "idsync-samba-ips", a.ip)), false, "address still claimed after stop()");
    assert.equal(existsSync(a.dir), false, "clone dir left after stop()");
    assert.equal(await accepts(a.ip, 636), false);
    await assert.rejects(a.start(), /stopped/);
    await a.stop(); // twice is fine
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
