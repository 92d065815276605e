// An LDAP error that belongs to one object (here invalidAttributeSyntax: HR gave an employee id with
// a non-ASCII letter, and mail is an IA5 string) is recorded on that object; the rest of the export
// goes on, and the failed add stays pending (with its error) for the next run.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PEOPLE, startExample, type Example, type HrRow } from "./helpers.ts";

let ex: Example;
before(async () => {
  ex = await startExample({ people: 30 });
  assert.equal((await ex.cycle()).status, "success");
});
after(async () => {
  await ex?.close();
});

const person = (employeeId: string, givenName: string): HrRow => ({
  employeeId,
  givenName,
  sn: "Berg",
  department: "Legal",
  title: "Associate",
  managerId: "E000001",
  status: "active",
  employeeType: "employee",
});

test("a per-object LDAP error is recorded on that object and the run goes on", async () => {
  ex.writeHr([...ex.hr(), person("E000902", "Ida"), person("E00090Ø", "Åke")]);
  const result = await ex.cycle();
  assert.equal(result.status, "completed-with-errors");
  const exports = result.runs.filter((r) => r.ma === "directory" && r.profile === "export");
  assert.ok(exports.length >= 1);
  const errors = exports.flatMap((r) => r.errors);
  assert.ok(errors.length >= 1);
  for (const e of errors) {
    assert.equal(e.code, "invalidAttributeSyntax");
    assert.ok(e.csId, "the error names the connector-space object");
    assert.match(e.message, /^add cn=Åke Berg \(E00090Ø\),ou=people,dc=example,dc=org: invalidAttributeSyntax: mail: /, "the message names the entry and the attribute");
  }
  assert.equal(new Set(errors.map((e) => e.csId)).size, 1, "one object failed");

  // The good one is there, with its group membership; the bad one is not.
  assert.equal((await ex.search(PEOPLE, "(employeeNumber=E000902)")).length, 1, "the rest of the export went on");
  assert.equal((await ex.search(PEOPLE, "(uid=e00090*)", ["uid"])).map((e) => e.get("uid")).join(), "e000902");

  const status = await ex.engine.status("directory");
  assert.equal(status.pendingExports.errors, 1, "the failed add stays pending, with its error");
  assert.equal(status.pendingExports.adds, 1);

  // Retried by the next run, failing the same way; nothing else is touched.
  const again = await ex.cycle();
  const retried = again.runs.filter((r) => r.ma === "directory" && r.profile === "export");
  assert.equal(retried.reduce((n, r) => n + r.counts.errors, 0), 1);
  assert.equal(retried.reduce((n, r) => n + r.counts.exported, 0), 0);
});
