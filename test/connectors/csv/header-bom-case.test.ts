// The header names the columns: matched to declared attributes case-insensitively, output in the
// declared spelling, undeclared columns ignored, a UTF-8 BOM and CRLF line ends understood.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { connector, importAll, tempDir } from "./helpers.ts";

test("BOM, CRLF and differently cased columns import under the declared names", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "\uFEFFEMPLOYEEID,GivenName, sn ,costCenter\r\n1001,Zoë,Müller,CC-7\r\n1002,Ann,Lee,CC-8\r\n");
  const { objects, problems } = await importAll(connector(dir));
  assert.deepEqual(problems, []);
  assert.deepEqual(objects, [
    { objectType: "person", anchor: "1001", attrs: { employeeId: "1001", givenName: "Zoë", sn: "Müller" } },
    { objectType: "person", anchor: "1002", attrs: { employeeId: "1002", givenName: "Ann", sn: "Lee" } },
  ]);
});

test("a file without a BOM reads the same", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "employeeid,SN\n7,Kim\n");
  const { objects } = await importAll(connector(dir));
  assert.deepEqual(objects, [{ objectType: "person", anchor: "7", attrs: { employeeId: "7", sn: "Kim" } }]);
});

test("a header without the anchor column fails the import, naming file and attribute", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "id,sn\n7,Kim\n");
  await assert.rejects(importAll(connector(dir)), (e: Error) => e.message.includes("hr.csv") && e.message.includes("employeeId"));
});

test("two columns naming one attribute fail the import", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "hr.csv"), "employeeId,sn,SN\n7,Kim,Lee\n");
  await assert.rejects(importAll(connector(dir)), /both name attribute 'sn'/);
});
