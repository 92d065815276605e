// deprovisionDN: only on an outbound rule with deprovision: disable, only beside a dn to move the
// object back with, and compiled against the metaverse schema like dn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { compileConfig } from "../../src/engine/rules.ts";
import { configDir, directoryRules } from "./helpers.ts";

const DISABLED = `'"uid=" + escapeDNComponent(mv.accountName) + ",ou=disabled,dc=example,dc=org"'`;

const outbound = (lines: string) => directoryRules(lines, "    - {target: cn, expression: mv.displayName}");

const DN = `  provision: true\n  dn: '"uid=" + escapeDNComponent(mv.accountName) + ",ou=people,dc=example,dc=org"'`;

test("deprovisionDN with deprovision: disable is compiled with the rule", async () => {
  const dir = configDir({ "rules/directory.yaml": outbound(`${DN}\n  deprovision: disable\n  deprovisionDN: ${DISABLED}`) });
  const result = await loadConfigDirectory(dir);
  assert.deepEqual(result.errors.map(formatConfigError), []);
  const compiled = compileConfig(result.config!).outbound.find((r) => r.name === "directory-outbound")!;
  assert.equal(compiled.deprovisionDN?.evaluate({ accountName: "a,b" }), "uid=a\\,b,ou=disabled,dc=example,dc=org");
});

test("deprovisionDN with another deprovision action is refused", async () => {
  const dir = configDir({ "rules/directory.yaml": outbound(`${DN}\n  deprovision: delete\n  deprovisionDN: ${DISABLED}`) });
  const result = await loadConfigDirectory(dir);
  assert.deepEqual(
    result.errors.map((e) => [e.file, e.name, e.path, e.message]),
    [[join(dir, "rules/directory.yaml"), "directory-outbound", "spec.deprovisionDN", "deprovisionDN is only allowed on an outbound rule with deprovision: disable"]],
  );
});

test("deprovisionDN reading an unknown attribute, or without dn, is an error at the field", async () => {
  const dir = configDir({
    "rules/directory.yaml": outbound(`  deprovision: disable\n  deprovisionDN: '"uid=" + mv.acountName + ",ou=disabled,dc=example,dc=org"'`),
  });
  const result = await loadConfigDirectory(dir);
  const got = result.errors.map((e) => [e.line, e.path, e.message]);
  assert.equal(got.length, 2, result.errors.map(formatConfigError).join("\n"));
  assert.deepEqual(got.map(([line, path]) => [line, path]), [[11, "spec.deprovisionDN"], [11, "spec.deprovisionDN"]]);
  assert.match(String(got[0][2]), /mv has no attribute 'acountName'/);
  assert.equal(got[1][2], "deprovisionDN needs dn: the DN a returning object is moved back to");
});
