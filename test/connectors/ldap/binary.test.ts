// Binary attributes round-trip as base64: jpegPhoto (plain binary), userCertificate (;binary).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, importAll, parseLdif, personType } from "./helpers.ts";

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
});
after(() => slapd.stop());

const type = personType([
  { name: "uid" },
  { name: "cn" },
  { name: "sn" },
  { name: "jpegPhoto", type: "binary" },
  { name: "userCertificate", type: "binary" },
]);

test("jpegPhoto and userCertificate written as base64 arrive as bytes and read back identical", async () => {
  // Not valid UTF-8 (0xff 0xd8 is a JPEG header) plus bytes that are: both must survive.
  const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), randomBytes(3000), Buffer.from("tail ÅØ", "utf8")]);
  const der = join(slapd.dir, "cert.der");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=jdoe", "-keyout", join(slapd.dir, "k.pem"), "-outform", "DER", "-out", der,
  ], { stdio: "ignore" });
  const cert = readFileSync(der);
  const dn = `uid=jdoe,ou=people,${slapd.suffix}`;
  const c = connectorFor(slapd, [type]);
  try {
    const [r] = await c.export([
      {
        op: "add",
        id: "1",
        objectType: "person",
        dn,
        attrs: { uid: "jdoe", cn: "J Doe", sn: "Doe", jpegPhoto: photo.toString("base64"), userCertificate: cert.toString("base64") },
      },
    ]);
    assert.equal(r.ok, true, JSON.stringify(r));

    // What the server holds, seen by OpenLDAP's own client.
    const ldif = parseLdif(await slapd.cli("ldapsearch", ["-LLL", "-b", dn, "-s", "base", "jpegPhoto", "userCertificate;binary"]));
    assert.equal(ldif[0].attrs.get("jpegphoto")![0], "::" + photo.toString("base64"));
    assert.equal(ldif[0].attrs.get("usercertificate;binary")![0], "::" + cert.toString("base64"));

    const { objects } = await importAll(c);
    assert.equal(objects[0].attrs.jpegPhoto, photo.toString("base64"));
    assert.equal(objects[0].attrs.userCertificate, cert.toString("base64"));
  } finally {
    await c.close();
  }
});

test("a binary value replaced by update round-trips too, even one that looks like UTF-8 text", async () => {
  const dn = `uid=jdoe,ou=people,${slapd.suffix}`;
  // Valid UTF-8 starting with a byte-order mark: decoding it as text would drop the BOM.
  const photo = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("plain text", "utf8")]);
  const c = connectorFor(slapd, [personType([{ name: "uid" }, { name: "JPEGPHOTO", type: "binary" }])]);
  try {
    const [r] = await c.export([{ op: "update", id: "2", objectType: "person", dn, changes: { JPEGPHOTO: { replace: photo.toString("base64") } } }]);
    assert.equal(r.ok, true, JSON.stringify(r));
    const { objects } = await importAll(c);
    assert.equal(objects[0].attrs.JPEGPHOTO, photo.toString("base64"));
  } finally {
    await c.close();
  }
});
