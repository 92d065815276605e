// Configuration files are bounded: a YAML file over 8 MiB is not parsed, and a resource (one YAML
// document) over 1 MiB as JSON — more than the Kubernetes API would store — is not validated. Each
// is one error naming the file and line (and the resource), the other files still load, and what
// names the oversized resource is not reported as unresolved on top.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";

const MA = (name: string, filter = "") => `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata:
  name: ${name}
spec:
  connector: {type: csv, csv: {path: ${name}.csv}}
  objectTypes: [{name: person, anchor: [id], attributes: [{name: id}]}]
${filter ? `  filter: '${filter}'\n` : ""}`;

const RULE = (ma: string, precedence = 10) => `apiVersion: idsync.dev/v1alpha1
kind: SyncRule
metadata:
  name: ${ma}-inbound
spec:
  direction: inbound
  managementAgent: ${ma}
  sourceObjectType: person
  metaverseObjectType: person
  precedence: ${precedence}
  attributeFlows: [{target: id, expression: source.id}]
`;

test("a YAML file over 8 MiB is one error at its first line; the other files load", async () => {
  const filler = `# ${"x".repeat(1000)}\n`.repeat(9 * 1024);
  const dir = configDir({ "ok.yaml": MA("small") + "---\n" + RULE("small"), "big.yaml": MA("big") + filler }, null);
  const result = await loadConfigDirectory(dir);
  assert.equal(result.errors.length, 1);
  assert.match(formatConfigError(result.errors[0]), new RegExp(`^${join(dir, "big.yaml")}:1: the file is 8\\.8 MiB; a configuration file may be at most 8 MiB$`));
  assert.deepEqual(result.resources.map((r) => r.metadata.name), ["small", "small-inbound"]);
});

test("a resource over 1 MiB is one error at its line, and what names it does not cascade", async () => {
  const huge = `object.id == "${"y".repeat(1100 * 1024)}"`;
  const dir = configDir({ "agents.yaml": MA("small") + "---\n" + MA("huge", huge), "rules.yaml": RULE("small") + "---\n" + RULE("huge", 20) }, null);
  const result = await loadConfigDirectory(dir);
  assert.equal(result.config, undefined);
  assert.deepEqual(result.errors.map(formatConfigError), [
    `${join(dir, "agents.yaml")}:9: ManagementAgent/huge: the resource is 1.1 MiB (as JSON); a resource may be at most 1 MiB (the Kubernetes API stores no object over about 1.5 MiB)`,
  ]);
});
