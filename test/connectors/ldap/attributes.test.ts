// Attribute names are case-insensitive (and aliases are one attribute); values keep multiplicity.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startSlapd, type Slapd } from "../../harness/slapd.ts";
import { connectorFor, importAll, personType } from "./helpers.ts";

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd();
  const s = slapd.suffix;
  await slapd.cli(
    "ldapadd",
    [],
    `dn: uid=jdoe,ou=people,${s}
objectClass: inetOrgPerson
uid: jdoe
cn: John Doe
cn;lang-de: Johann Doe
sn: Doe
mail: jdoe@example.org
mail: john.doe@example.org
mail: j@example.org
employeeNumber: 4711
manager: UID=Boss , OU=People,${s}
`,
  );
});
after(() => slapd.stop());

test("declared spellings win over the server's, aliases match, multi-valued stays a list", async () => {
  const c = connectorFor(slapd, [
    personType([
      { name: "UID" },
      { name: "commonName" }, // alias of cn, single-valued here
      { name: "SURNAME" }, // alias of sn
      { name: "Mail", multiValued: true },
      { name: "employeenumber", type: "integer" },
      { name: "Manager", type: "reference", referenceTo: "person" },
      { name: "telephoneNumber" }, // absent on the entry
    ]),
  ]);
  try {
    const { objects, problems } = await importAll(c);
    assert.equal(objects.length, 1);
    const o = objects[0];
    assert.deepEqual(o.attrs, {
      UID: "jdoe",
      commonName: "John Doe", // cn;lang-de is another attribute, not a second value
      SURNAME: "Doe",
      Mail: ["j@example.org", "jdoe@example.org", "john.doe@example.org"],
      employeenumber: 4711,
      Manager: `uid=boss,ou=people,${slapd.suffix}`, // a reference comes back normalized
    });
    assert.deepEqual(problems, []);
  } finally {
    await c.close();
  }
});

test("a declared single-valued attribute with several values yields the first and a problem", async () => {
  const c = connectorFor(slapd, [personType([{ name: "uid" }, { name: "mail" }])]);
  try {
    const { objects, problems } = await importAll(c);
    assert.equal(typeof objects[0].attrs.mail, "string");
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /mail is declared single-valued but has 3 values/);
    assert.equal(problems[0].location, `uid=jdoe,ou=people,${slapd.suffix}`);
  } finally {
    await c.close();
  }
});

test("a non-entryUUID anchor is read from the declared attribute", async () => {
  const c = connectorFor(slapd, [personType([{ name: "cn" }], { anchor: ["uid"] })]);
  try {
    const { objects } = await importAll(c);
    assert.equal(objects[0].anchor, "jdoe");
  } finally {
    await c.close();
  }
});
