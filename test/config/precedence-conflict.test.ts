import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

const directoryInbound = (precedence: number) => `apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata: {name: directory-inbound}
spec:
  direction: inbound
  managementAgent: directory
  sourceObjectType: inetOrgPerson
  metaverseObjectType: person
  precedence: ${precedence}
  join: [{metaverse: employeeId, expression: source.employeeNumber}]
  attributeFlows:
    - {target: mail, expression: source.mail}
    - {target: displayName, expression: source.cn}
`;

test("two inbound rules of equal precedence flowing one metaverse attribute are a conflict", async () => {
  // rules/directory.yaml is replaced: it now holds only this inbound rule.
  const dir = configDir({ "rules/directory.yaml": directoryInbound(10) });
  const result = await loadConfigDirectory(dir);
  const text = result.errors.map(formatConfigError);
  assert.equal(result.errors.length, 1, text.join("\n"));
  const [e] = result.errors;
  // hr-inbound (rules/hr.yaml) is read after rules/directory.yaml, so it is the one reported.
  assert.equal(e.name, "hr-inbound");
  assert.equal(e.path, "spec.attributeFlows[3].target");
  assert.equal(e.line, 17);
  assert.equal(
    e.message,
    `SyncRule 'directory-inbound' (${join(dir, "rules/directory.yaml")}:1) also flows metaverse attribute person.displayName with precedence 10; give the rules different precedences`,
  );
});

test("different precedences flowing one attribute are fine", async () => {
  const dir = configDir({ "rules/directory.yaml": directoryInbound(20) });
  const result = await loadConfigDirectory(dir);
  assert.deepEqual(result.errors.map(formatConfigError), []);
});
