// Delta import: changes since the watermark; deletions through OpenLDAP's accesslog when configured.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ImportChange } from "../../../src/connectors/types.ts";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { collectChanges, connectorFor, peopleLdif, personType } from "./helpers.ts";

const type = personType([{ name: "uid" }, { name: "cn" }, { name: "description" }]);
const upserts = (cs: ImportChange[]) => cs.flatMap((c) => (c.kind === "upsert" ? [c.object] : []));
const deletes = (cs: ImportChange[]) => cs.flatMap((c) => (c.kind === "delete" ? [c] : []));

describe("with the accesslog", () => {
  let slapd: Slapd;
  before(async () => {
    slapd = await startSlapd({ accesslog: true });
    await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 5));
  });
  after(() => slapd.stop());

  test("a first delta is a snapshot; the next sees a modify, an add and a delete", async () => {
    const c = connectorFor(slapd, [type], { accesslogBase: slapd.accesslogBase });
    try {
      const first = await c.deltaImport(undefined);
      assert.equal(first.mode, "snapshot");
      const all = upserts(await collectChanges(first.batches));
      assert.equal(all.length, 5);
      const w1 = await first.watermark();
      assert.ok(w1, "a watermark after the first delta");
      const u3 = all.find((o) => o.attrs.uid === "u3")!;

      const s = slapd.suffix;
      await slapd.cli("ldapmodify", [], `dn: uid=u1,ou=people,${s}\nchangetype: modify\nreplace: description\ndescription: changed\n`);
      await slapd.cli("ldapdelete", [`uid=u3,ou=people,${s}`]);
      await slapd.cli("ldapadd", [], peopleLdif(s, 1, "new"));

      const second = await c.deltaImport(w1);
      assert.equal(second.mode, "changes");
      const changes = await collectChanges(second.batches);
      const up = upserts(changes);
      const u1 = up.find((o) => o.attrs.uid === "u1");
      assert.equal(u1?.attrs.description, "changed");
      assert.ok(up.some((o) => o.attrs.uid === "new0"));
      assert.ok(!up.some((o) => o.attrs.uid === "u0" || o.attrs.uid === "u2"), "untouched entries are not re-read");
      const del = deletes(changes);
      assert.equal(del.length, 1);
      assert.equal(del[0].anchor, u3.anchor, "the delete carries the entryUUID");
      assert.equal(del[0].dn, `uid=u3,ou=people,${s}`);
      assert.equal(del[0].objectType, "person");
      // Deletes come before upserts in the stream.
      assert.equal(changes[0].kind, "delete");

      const w2 = await second.watermark();
      assert.ok(w2 && w2 >= w1!, `watermark moves forward: ${w1} -> ${w2}`);
      // Nothing happened since: a third delta has no upserts of untouched entries and no deletes.
      const third = await collectChanges((await c.deltaImport(w2)).batches);
      assert.ok(!upserts(third).some((o) => o.attrs.uid === "u0"));
    } finally {
      await c.close();
    }
  });

  test("a delete of an entry that is not one of our object types is not reported", async () => {
    const c = connectorFor(slapd, [type], { accesslogBase: slapd.accesslogBase });
    try {
      const first = await c.deltaImport(undefined);
      await collectChanges(first.batches);
      const w = (await first.watermark())!;
      await slapd.cli("ldapadd", [], `dn: ou=temp,${slapd.suffix}\nobjectClass: organizationalUnit\nou: temp\n`);
      await slapd.cli("ldapdelete", [`ou=temp,${slapd.suffix}`]);
      const changes = await collectChanges((await c.deltaImport(w)).batches);
      // (A delete logged in the watermark's own second may be reported again: the accesslog's
      // reqStart has seconds precision. Reporting a delete twice is harmless.)
      assert.deepEqual(deletes(changes).filter((d) => d.dn?.includes("ou=temp")), []);
    } finally {
      await c.close();
    }
  });
});

describe("without the accesslog", () => {
  let slapd: Slapd;
  before(async () => {
    slapd = await startSlapd();
    await slapd.cli("ldapadd", [], peopleLdif(slapd.suffix, 3));
  });
  after(() => slapd.stop());

  test("modifies are picked up from entryCSN; deletions wait for a full import", async () => {
    const c = connectorFor(slapd, [type]);
    try {
      const first = await c.deltaImport(undefined);
      assert.equal(upserts(await collectChanges(first.batches)).length, 3);
      const w1 = await first.watermark();
      assert.match(w1!, /^\d{14}\.\d{6}Z$/, "an entryCSN time, microseconds included");
      await slapd.cli("ldapmodify", [], `dn: uid=u2,ou=people,${slapd.suffix}\nchangetype: modify\nreplace: description\ndescription: later\n`);
      await slapd.cli("ldapdelete", [`uid=u0,ou=people,${slapd.suffix}`]);
      const second = await c.deltaImport(w1);
      const changes = await collectChanges(second.batches);
      assert.deepEqual(upserts(changes).map((o) => [o.attrs.uid, o.attrs.description]), [["u2", "later"]]);
      assert.deepEqual(deletes(changes), []);
      assert.ok((await second.watermark())! > w1!);
    } finally {
      await c.close();
    }
  });
});
