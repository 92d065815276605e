// `idsync validate` rejects what the API server rejects at `kubectl apply` (the CRD's
// x-kubernetes-validations): a connector type that is not implemented, a missing or foreign settings
// block, required settings, and settings the connector would refuse at its first run. Each error
// names the file, the line and column, the resource and the field, and each mistake is one error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { configDir } from "./helpers.ts";
import { ACCEPTED_YAML, REJECTED_YAML, REJECTIONS } from "./rejected-at-apply.ts";

// Where each error points in REJECTED_YAML: the field, or for a missing one the field it is missing from.
const POSITION: Record<string, string> = {
  postgres: "6:5",
  "csv-without-block": "14:3",
  "ldap-without-block": "22:3",
  "block-of-another-type": "33:5",
  "csv-without-path": "42:5",
  "ldap-without-url": "51:5",
  "bind-dn-without-password": "60:5",
  "password-without-bind-dn": "72:5",
  "url-with-a-dn": "85:7",
  "starttls-on-ldaps": "98:7",
  "quote-delimiter": "109:7",
  "line-break-separator": "120:7",
};

test("idsync validate rejects each MA the API rejects at apply, with file, line, column and field", async () => {
  const dir = configDir({ "agents.yaml": REJECTED_YAML }, null);
  const file = join(dir, "agents.yaml");
  const result = await loadConfigDirectory(dir);
  assert.equal(result.config, undefined);
  assert.deepEqual(
    result.errors.map(formatConfigError),
    REJECTIONS.map((r) => `${file}:${POSITION[r.name]}: ManagementAgent/${r.name} ${r.path}: ${r.message}`),
  );
});

test("connector type postgres is refused while its connector does not exist, with or without its block", async () => {
  const dir = configDir(
    {
      "pg.yaml": `apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata: {name: people-db}
spec:
  connector: {type: postgres}
  objectTypes: [{name: person, anchor: [id], attributes: [{name: id}]}]
`,
    },
    null,
  );
  // The block rule still holds (it is the one that stays when the connector comes); the refusal
  // says why no block would do for now.
  assert.deepEqual((await loadConfigDirectory(dir)).errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`), [
    "5:3 spec.connector.postgres: connector type postgres requires connector.postgres",
    "5:15 spec.connector.type: connector type postgres is not implemented yet: use csv or ldap",
  ]);
});

test("the rules accept the settings each implemented connector takes", async () => {
  const dir = configDir({ "agents.yaml": ACCEPTED_YAML }, null);
  const result = await loadConfigDirectory(dir);
  assert.deepEqual(result.errors.map(formatConfigError), []);
  assert.deepEqual(result.config?.managementAgents.map((m) => m.metadata.name), ["hr", "directory", "anonymous"]);
});

test("every example still validates", async () => {
  const examples = fileURLToPath(new URL("../../examples/", import.meta.url));
  const dirs = readdirSync(examples, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== "ci");
  assert.ok(dirs.length >= 2);
  for (const d of dirs) {
    const result = await loadConfigDirectory(join(examples, d.name));
    assert.deepEqual(result.errors.map(formatConfigError), [], `examples/${d.name}`);
  }
});
