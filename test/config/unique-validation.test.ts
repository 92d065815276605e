// unique: true belongs on outbound attribute flows, and `iteration` only in a flow that has it:
// each misuse is an error naming the file, line, rule and field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir, directoryRules } from "./helpers.ts";

const ACCOUNT = `'mv.givenName.lowerAscii() + (iteration > 1 ? string(iteration) : "")'`;

const rules = (flows: string, inbound?: string) =>
  directoryRules(`  provision: true\n  dn: '"uid=" + escapeDNComponent(mv.accountName) + ",ou=people,dc=example,dc=org"'`, flows, inbound);

test("a unique flow may read iteration", async () => {
  const dir = configDir({ "rules/directory.yaml": rules(`    - {target: uid, expression: ${ACCOUNT}, unique: true}`) });
  const result = await loadConfigDirectory(dir);
  assert.deepEqual(result.errors.map(formatConfigError), []);
  const flow = result.config!.syncRules.find((r) => r.metadata.name === "directory-outbound")!.spec.attributeFlows![0];
  assert.equal(flow.unique, true);
});

test("iteration without unique, unique on a reference, unique on an inbound flow: one error each, where it is", async () => {
  const dir = configDir({
    "rules/directory.yaml": rules(
      [
        `    - {target: uid, expression: ${ACCOUNT}, unique: true}`,
        `    - {target: cn, expression: 'mv.displayName + string(iteration)'}`,
        `    - {target: manager, expression: mv.manager, unique: true}`,
      ].join("\n"),
      "    - {target: mail, expression: source.mail, unique: true}",
    ),
  });
  const file = join(dir, "rules/directory.yaml");
  const result = await loadConfigDirectory(dir);
  const got = result.errors.map((e) => [e.file, e.line, e.name, e.path, e.message]);
  assert.deepEqual(got, [
    [file, 14, "directory-outbound", "spec.attributeFlows[1].expression", "reads iteration, which only an attribute flow with unique: true has (the try at a value no other object holds)"],
    [file, 15, "directory-outbound", "spec.attributeFlows[2].unique", "'manager' is a reference: unique is for an attribute of a single value"],
    [file, 28, "directory-inbound", "spec.attributeFlows[0].unique", "unique is only for outbound flows (a value no other object of the target system holds)"],
  ]);
});

test("iteration in a deprovision flow is an error; unique is no field of a deprovision flow", async () => {
  const base = `    - {target: uid, expression: ${ACCOUNT}, unique: true}\n  deprovision: disable\n  deprovisionFlows:\n`;
  const withIteration = await loadConfigDirectory(configDir({ "rules/directory.yaml": rules(base + `    - {target: cn, expression: 'string(iteration)'}`) }));
  assert.deepEqual(
    withIteration.errors.map((e) => [e.path, e.message]),
    [["spec.deprovisionFlows[0].expression", "reads iteration, which only an attribute flow with unique: true has (the try at a value no other object holds)"]],
  );
  const withUnique = await loadConfigDirectory(configDir({ "rules/directory.yaml": rules(base + `    - {target: cn, expression: mv.displayName, unique: true}`) }));
  assert.equal(withUnique.errors.length, 1, withUnique.errors.map(formatConfigError).join("\n"));
  assert.equal(withUnique.errors[0].path, "spec.deprovisionFlows[0].unique");
});
