// Full import pages past the server's size limit (RFC 2696) and streams page by page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, importAll, peopleLdif, personType } from "./helpers.ts";

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd({ sizeLimit: 500 });
  await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 1200));
});
after(() => slapd.stop());

test("the server really stops a plain search at its size limit", async () => {
  // The service account is subject to limits (the rootdn is not): a plain search is cut at 500.
  await assert.rejects(
    slapd.cli("ldapsearch", ["-LLL", "-D", slapd.bindDN, "-w", slapd.password, "-b", `ou=people,${slapd.suffix}`, "(objectClass=inetOrgPerson)", "1.1"]),
    /Size limit exceeded/,
  );
});

test("full import returns all 1200 entries in pages no larger than pageSize", async () => {
  const c = connectorFor(slapd, [personType([{ name: "uid" }, { name: "cn" }])], { pageSize: 500 });
  try {
    const { objects, batches, problems } = await importAll(c);
    assert.equal(objects.length, 1200);
    assert.deepEqual(problems, []);
    assert.ok(batches.length >= 3, `expected several pages, got ${batches.join(",")}`);
    assert.ok(batches.every((n) => n <= 500));
    assert.equal(new Set(objects.map((o) => o.anchor)).size, 1200, "every entry once, each with its own entryUUID");
    assert.equal(new Set(objects.map((o) => o.attrs.uid)).size, 1200);
    const u7 = objects.find((o) => o.attrs.uid === "u7")!;
    assert.equal(u7.dn, `uid=u7,ou=people,${slapd.suffix}`);
    assert.match(u7.anchor, /^[0-9a-f-]{36}$/);
    assert.equal(u7.objectType, "person");
  } finally {
    await c.close();
  }
});

test("a small page size gives many pages and the same objects", async () => {
  const c = connectorFor(slapd, [personType([{ name: "uid" }])], { pageSize: 100 });
  try {
    const { objects, batches } = await importAll(c);
    assert.equal(objects.length, 1200);
    assert.equal(batches.length, 12);
  } finally {
    await c.close();
  }
});
