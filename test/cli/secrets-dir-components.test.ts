// --secrets-dir DIR reads DIR/<name>/<key>. A Secret name or key is one path component: one that
// is empty, '.', '..', or holds a path separator is refused before the file system is touched, so
// a ManagementAgent naming the Secret '../outside' cannot read a file beside the secrets folder.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { secretResolver } from "../../src/cli/context.ts";

const base = mkdtempSync(join(tmpdir(), "idsync-secrets-"));
after(() => rmSync(base, { recursive: true, force: true }));
const secretsDir = join(base, "secrets");
mkdirSync(join(secretsDir, "ldap-bind"), { recursive: true });
writeFileSync(join(secretsDir, "ldap-bind", "password"), "s3cret\n");
// What an escaping name or key would reach.
mkdirSync(join(base, "outside"));
writeFileSync(join(base, "outside", "password"), "not-for-idsync");
writeFileSync(join(base, "password"), "not-for-idsync-either");
writeFileSync(join(secretsDir, "password"), "a file in the folder itself");

const resolve = secretResolver({ dataDir: ".idsync", output: "text", secretsDir });

test("a name and key that are plain names are read from DIR/<name>/<key>", async () => {
  assert.equal(await resolve("ldap-bind", "password"), "s3cret");
});

test("names and keys that would leave the folder, or name a folder, are refused before any file is read", async () => {
  const cases: Array<[string, string, RegExp]> = [
    ["../outside", "password", /secret name "\.\.\/outside" holds a path separator/],
    ["ldap-bind", "../../outside/password", /secret key "\.\.\/\.\.\/outside\/password" holds a path separator/],
    ["..", "password", /secret name "\.\." is not a name/],
    [".", "password", /secret name "\." is not a name/],
    ["ldap-bind", "..", /secret key "\.\." is not a name/],
    ["", "password", /secret name "" is empty/],
    ["ldap-bind", "", /secret key "" is empty/],
    ["ldap-bind\\..\\..", "password", /path separator/],
    ["outside/../ldap-bind", "password", /path separator/],
  ];
  for (const [name, key, message] of cases) {
    await assert.rejects(resolve(name, key), message, `${JSON.stringify(name)}/${JSON.stringify(key)}`);
  }
});

test("the environment fallback refuses them too (one rule for a Secret's name and key)", async () => {
  const env = secretResolver({ dataDir: ".idsync", output: "text" });
  process.env.IDSYNC_SECRET____OUTSIDE_PASSWORD = "from-env";
  try {
    await assert.rejects(env("../outside", "password"), /path separator/);
  } finally {
    delete process.env.IDSYNC_SECRET____OUTSIDE_PASSWORD;
  }
});
