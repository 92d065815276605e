// With a path policy the CSV connector opens and creates files only inside their root: the path is
// checked as written (an absolute path or a `..` out of the root is refused when the connector is
// made), and before every read and write the real path, symbolic links followed, must still lie
// inside the root. The connector then opens that real path.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { PathPolicy } from "../../../src/config/paths.ts";
import { createCsvConnector } from "../../../src/connectors/csv/index.ts";
import { importAll, managementAgent, tempDir } from "./helpers.ts";

function setup() {
  const base = tempDir();
  const root = join(base, "root");
  const outside = join(base, "outside");
  mkdirSync(root);
  mkdirSync(outside);
  const secret = join(outside, "secret-data.csv");
  writeFileSync(secret, "employeeId,givenName\nE1,Secret\n");
  chmodSync(secret, 0o600);
  const paths: PathPolicy = { kind: "roots", roots: [{ name: "data", dir: root }] };
  const make = (path: string) => createCsvConnector(managementAgent({ path }), { baseDir: base, secret: async () => "", paths });
  return { base, root, outside, secret, make };
}

test("absolute paths and '..' out of the root are refused before anything is opened", () => {
  const s = setup();
  assert.throws(() => s.make(s.secret), /spec\.connector\.csv\.path: '.*secret-data\.csv' is an absolute path/);
  assert.throws(() => s.make("data/../../outside/exfil.csv"), /leaves CSV root 'data'/);
  assert.throws(() => s.make("../outside/exfil.csv"), /does not start with a CSV root/);
  assert.throws(() => s.make("data"), /names CSV root 'data' itself/);
  assert.throws(() => s.make("other/hr.csv"), /does not start with a CSV root: .* one of data/);
});

test("a file that is a symbolic link out of the root is not read", async () => {
  const s = setup();
  symlinkSync(s.secret, join(s.root, "hr.csv"));
  await assert.rejects(importAll(s.make("data/hr.csv")), (e: Error) => {
    assert.equal(e.name, "PathOutsideRootError");
    assert.match(e.message, /hr\.csv leads \(through a symbolic link\) to .*secret-data\.csv, which is outside/);
    return true;
  });
  await assert.rejects(s.make("data/hr.csv").deltaImport(undefined), /outside/);
});

test("a folder that is a symbolic link out of the root is neither read nor written, and nothing is created", async () => {
  const s = setup();
  symlinkSync(s.outside, join(s.root, "exports"));
  const c = s.make("data/exports/sub/exfil.csv");
  await assert.rejects(c.export([{ op: "add", id: "1", objectType: "person", attrs: { employeeId: "E9" } }]), /outside/);
  assert.deepEqual(readdirSync(s.outside), ["secret-data.csv"], "no directory, file or temporary file appeared");
  await assert.rejects(importAll(s.make("data/exports/secret-data.csv")), /outside/);
});

test("a link to nowhere is refused too (a write would create its target)", async () => {
  const s = setup();
  symlinkSync(join(s.outside, "created-by-idsync.csv"), join(s.root, "target.csv"));
  await assert.rejects(s.make("data/target.csv").export([{ op: "add", id: "1", objectType: "person", attrs: { employeeId: "E9" } }]), /symbolic link to something that does not exist/);
  assert.ok(!existsSync(join(s.outside, "created-by-idsync.csv")));
});

test("inside the root, folders are created and links that stay inside are followed", async () => {
  const s = setup();
  const c = s.make("data/new/deeper/out.csv");
  const r = await c.export([{ op: "add", id: "1", objectType: "person", attrs: { employeeId: "E9", givenName: "Nia" } }]);
  assert.ok(r[0].ok, JSON.stringify(r));
  assert.match(readFileSync(join(s.root, "new", "deeper", "out.csv"), "utf8"), /^E9,Nia/m);
  // A ConfigMap volume's files are links into a hidden folder of the same volume: fine.
  mkdirSync(join(s.root, "..data"));
  writeFileSync(join(s.root, "..data", "people.csv"), "employeeId,givenName\nE1,Ann\n");
  symlinkSync("..data/people.csv", join(s.root, "people.csv"));
  const { objects } = await importAll(s.make("data/people.csv"));
  assert.deepEqual(objects.map((o) => o.attrs.givenName), ["Ann"]);
});
