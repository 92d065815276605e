// A RetentionPolicy with 150,000 list items used to end validation with "Maximum call stack size
// exceeded" and no file or line (a spread of one error per item into push()). Every list of the
// CRDs now has a maxItems, the error says how many items there are and how many are allowed at the
// list's own line, and a list of thousands of bad items gives a bounded number of errors.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { formatConfigError, loadConfigDirectory } from "../../src/config/index.ts";
import { crdFor, type JsonSchema } from "../../src/config/schema.ts";
import { configDir } from "./helpers.ts";

const policy = (list: string, items: string[]) =>
  `apiVersion: idsync.dev/v1alpha1
kind: RetentionPolicy
metadata:
  name: people-too
spec:
  metaverseObjectType: person
  ${list === "disconnectedFrom" ? "deleteWhen" : "personalData"}:
    ${list === "disconnectedFrom" ? "disconnectedFrom" : "attributes"}:
${items.map((i) => `      - ${i}`).join("\n")}
`;

test("150,000 MAs in deleteWhen.disconnectedFrom: one error naming file, line and resource, not a stack overflow", async () => {
  const items = Array.from({ length: 150_000 }, (_, i) => `managementAgentNumber${i}`);
  const dir = configDir({ "huge.yaml": policy("disconnectedFrom", items) });
  const result = await loadConfigDirectory(dir);
  const errors = result.errors.filter((e) => e.file === join(dir, "huge.yaml"));
  assert.equal(errors.length, 1, errors.map(formatConfigError).join("\n"));
  assert.equal(errors[0].line, 1);
  assert.equal(`${errors[0].kind}/${errors[0].name}`, "RetentionPolicy/people-too");
  assert.match(errors[0].message, /the resource is [\d.]+ MiB \(as JSON\); a resource may be at most 1 MiB/);
});

test("20,000 items, most of them duplicates: the list's line says how many are allowed, and the duplicates are counted, not listed", async () => {
  const items = Array.from({ length: 20_000 }, (_, i) => `m${i % 1000}`);
  const dir = configDir({ "huge.yaml": policy("disconnectedFrom", items) });
  const result = await loadConfigDirectory(dir);
  assert.equal(result.config, undefined);
  const errors = result.errors.filter((e) => e.file === join(dir, "huge.yaml"));
  assert.ok(errors.length >= 1 && errors.length <= 51, `a bounded number of errors (${errors.length})`);
  const maxItems = errors.find((e) => e.path === "spec.deleteWhen.disconnectedFrom");
  assert.ok(maxItems, errors.map(formatConfigError).join("\n"));
  assert.equal(maxItems.line, 8, "the list's own line");
  assert.equal(maxItems.name, "people-too");
  assert.match(maxItems.message, /has 20000 items; at most 100 are allowed/);
  assert.ok(errors.some((e) => /and \d+ more schema error\(s\) in this resource/.test(e.message)), "the duplicates are counted, not listed");
});

test("2,001 personal-data attributes: at most 2,000", async () => {
  const dir = configDir({ "pd.yaml": policy("attributes", Array.from({ length: 2001 }, (_, i) => `a${i}`)) });
  const result = await loadConfigDirectory(dir);
  const e = result.errors.find((x) => x.path === "spec.personalData.attributes");
  assert.ok(e, result.errors.map(formatConfigError).join("\n"));
  assert.match(formatConfigError(e), /pd\.yaml:8:5: RetentionPolicy\/people-too spec\.personalData\.attributes: has 2001 items; at most 2000 are allowed/);
});

test("every list in the three CRDs' specs has a maxItems", () => {
  const unbounded: string[] = [];
  const walk = (node: JsonSchema, path: string) => {
    if (node.type === "array" && node.maxItems === undefined) unbounded.push(path);
    for (const [k, v] of Object.entries((node.properties as Record<string, JsonSchema>) ?? {})) walk(v, `${path}.${k}`);
    if (node.items && typeof node.items === "object") walk(node.items as JsonSchema, `${path}[]`);
  };
  for (const kind of ["ManagementAgent", "SyncRule", "RetentionPolicy"]) {
    const spec = (crdFor(kind)!.spec.versions[0].schema.openAPIV3Schema.properties as Record<string, JsonSchema>).spec;
    walk(spec, `${kind}.spec`);
  }
  assert.deepEqual(unbounded, []);
});
