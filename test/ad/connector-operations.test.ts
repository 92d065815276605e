// The AD connector's export on its own, against a real Samba DC: what AD says no to becomes a
// readable per-object error (missing rights, a name already taken), a retried add that finds its
// own object succeeds with that object's GUID, a contact is created, and an OU is deleted with
// everything in it (Tree Delete).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Connector, ExportResult } from "../../src/connectors/types.ts";
import { startDomainController, type DomainController } from "../harness/samba.ts";
import { adConnector } from "./helpers.ts";

let dc: DomainController;
let ou: string;
const READER_PASSWORD = "Reader!Passw0rd-2026";

before(async () => {
  dc = await startDomainController();
  ou = `OU=Ops,${dc.baseDN}`;
  await dc.ldapmodify(
    [
      `dn: ${ou}`,
      "changetype: add",
      "objectClass: organizationalUnit",
      "",
      `dn: CN=idsync reader,CN=Users,${dc.baseDN}`,
      "changetype: add",
      "objectClass: user",
      "sAMAccountName: idsync-reader",
      `unicodePwd:: ${Buffer.from(`"${READER_PASSWORD}"`, "utf16le").toString("base64")}`,
      "userAccountControl: 512",
      "",
    ].join("\n"),
  );
});
after(async () => {
  await dc?.stop();
});

function connector(as: "admin" | "reader" = "admin"): Connector {
  return adConnector(dc, {
    containers: [ou],
    ...(as === "reader" ? { bindDN: "idsync-reader@sync.test", password: READER_PASSWORD } : {}),
    objectTypes: [
      { name: "user", anchor: [], attributes: [{ name: "sAMAccountName" }, { name: "sn" }, { name: "accountEnabled", type: "boolean" }] },
      { name: "contact", anchor: [], attributes: [{ name: "sn" }, { name: "mail" }] },
      { name: "organizationalUnit", anchor: [], attributes: [{ name: "ou" }] },
    ],
  });
}

async function exportOne(c: Connector, op: Parameters<Connector["export"]>[0][number]): Promise<ExportResult> {
  const [r] = await c.export([op]);
  return r;
}

test("an account without rights gets a readable per-object error, and nothing is created", async () => {
  const c = connector("reader");
  try {
    const r = await exportOne(c, { op: "add", id: "1", objectType: "user", dn: `CN=Denied,${ou}`, attrs: { sAMAccountName: "denied", sn: "Denied" } });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.code === "insufficientRights", JSON.stringify(r));
    assert.ok(!r.ok && /lacks the rights/.test(r.message), JSON.stringify(r));
  } finally {
    await c.close();
  }
  assert.doesNotMatch(await dc.ldapsearch(["-b", ou, "(sAMAccountName=denied)", "1.1"]), /^dn:/m);
});

test("a sAMAccountName another account holds is that object's error; a retried add of our own object succeeds", async () => {
  const c = connector();
  try {
    const first = await exportOne(c, { op: "add", id: "1", objectType: "user", dn: `CN=Kim Lee,${ou}`, attrs: { sAMAccountName: "klee", sn: "Lee", accountEnabled: false } });
    assert.ok(first.ok && /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(first.anchor ?? ""), JSON.stringify(first));
    // The answer was lost, say, and the engine sends the same add again.
    const again = await exportOne(c, { op: "add", id: "2", objectType: "user", dn: `CN=Kim Lee,${ou}`, attrs: { sAMAccountName: "klee", sn: "Lee", accountEnabled: false } });
    assert.ok(again.ok && again.anchor === first.anchor, JSON.stringify(again));
    const clash = await exportOne(c, { op: "add", id: "3", objectType: "user", dn: `CN=Kim Lee 2,${ou}`, attrs: { sAMAccountName: "klee", sn: "Lee" } });
    assert.equal(clash.ok, false, JSON.stringify(clash));
    assert.ok(!clash.ok && clash.code === "accountNameTaken" && /klee/.test(clash.message), JSON.stringify(clash));
  } finally {
    await c.close();
  }
  const text = await dc.ldapsearch(["-b", ou, "(sAMAccountName=klee)", "userAccountControl"]);
  assert.equal(text.match(/^dn:/gm)?.length, 1, "one account");
  assert.equal(Number(/userAccountControl: (\d+)/.exec(text)?.[1]) & 2, 2, "created disabled, as accountEnabled said");
});

test("a contact, and an OU deleted with everything in it", async () => {
  const c = connector();
  try {
    const sub = `OU=Project,${ou}`;
    assert.ok((await exportOne(c, { op: "add", id: "1", objectType: "organizationalUnit", dn: sub, attrs: { ou: "Project" } })).ok);
    const contact = await exportOne(c, { op: "add", id: "2", objectType: "contact", dn: `CN=Partner,${sub}`, attrs: { sn: "Partner", mail: "partner@example.org" } });
    assert.ok(contact.ok, JSON.stringify(contact));
    const removed = await exportOne(c, { op: "delete", id: "3", objectType: "organizationalUnit", dn: sub });
    assert.ok(removed.ok, JSON.stringify(removed));
    await assert.rejects(dc.ldapsearch(["-b", sub, "-s", "base", "(objectClass=*)", "1.1"]), /No such object/i);
  } finally {
    await c.close();
  }
});

test("an add or a move outside the containers is refused before anything is sent", async () => {
  const c = connector();
  try {
    const outside = `CN=Stray,CN=Users,${dc.baseDN}`;
    const r = await exportOne(c, { op: "add", id: "1", objectType: "contact", dn: outside, attrs: { sn: "Stray" } });
    assert.ok(!r.ok && r.code === "outsideContainers" && r.message.includes(ou), JSON.stringify(r));
    const inside = await exportOne(c, { op: "add", id: "2", objectType: "contact", dn: `CN=Stray,${ou}`, attrs: { sn: "Stray" } });
    assert.ok(inside.ok, JSON.stringify(inside));
    const move = await exportOne(c, { op: "update", id: "3", objectType: "contact", anchor: inside.ok ? inside.anchor : undefined, dn: `CN=Stray,${ou}`, newDn: outside, changes: {} });
    assert.ok(!move.ok && move.code === "outsideContainers", JSON.stringify(move));
  } finally {
    await c.close();
  }
  await assert.rejects(dc.ldapsearch(["-b", `CN=Stray,CN=Users,${dc.baseDN}`, "-s", "base", "(objectClass=*)", "1.1"]), /No such object/i);
});

test("ldap:// with StartTLS, the certificate verified for the DC's address", async () => {
  const c = adConnector(dc, { containers: [ou], objectTypes: [{ name: "contact", anchor: [], attributes: [{ name: "sn" }] }], url: dc.startTlsUrl, startTLS: true });
  try {
    const found: string[] = [];
    for await (const b of c.fullImport()) for (const o of b.items) found.push(o.dn ?? "");
    assert.ok(found.some((dn) => /^CN=Stray,/i.test(dn)), JSON.stringify(found));
  } finally {
    await c.close();
  }
});
