// `idsync validate` for CI: errors as text, JSON, GitHub Actions annotations (escaped as workflow
// commands require) and JUnit XML; exit 0 when valid, 1 on errors; a format a command does not
// support is refused with a clear message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigDirectory } from "../../src/config/index.ts";
import { renderValidation } from "../../src/gitops/index.ts";
import { idsync } from "./helpers.ts";

const QUICKSTART = new URL("../../examples/quickstart/", import.meta.url).pathname;

test("GitHub annotations and JUnit XML escape what they must", () => {
  const v = {
    directory: "config",
    resources: [],
    errors: [{ file: "config/a,b:c.yaml", line: 3, column: 7, kind: "SyncRule", name: "r", path: "spec.scope", message: "100% wrong\nsecond line <&\"'>" }],
  };
  assert.equal(
    renderValidation(v, "github").split("\n")[0],
    "::error file=config/a%2Cb%3Ac.yaml,line=3,col=7,title=idsync%3A SyncRule/r::spec.scope: 100%25 wrong%0Asecond line <&\"'>",
  );
  const xml = renderValidation(v, "junit");
  assert.match(xml, /<testcase classname="config\/a,b:c.yaml" name="config\/a,b:c.yaml" file="config\/a,b:c.yaml" line="3">/);
  assert.match(xml, /<failure type="ConfigError" message="spec.scope: 100% wrong\nsecond line &lt;&amp;&quot;'&gt;">/);
  assert.doesNotMatch(xml, /<&"/);
});

test("validate through the CLI: text, github, junit, json; exit codes; unsupported formats", async () => {
  const root = mkdtempSync(join(tmpdir(), "idsync-validate-"));
  try {
    const good = join(root, "good");
    const bad = join(root, "bad");
    cpSync(QUICKSTART, good, { recursive: true });
    cpSync(QUICKSTART, bad, { recursive: true });
    const rules = join(bad, "rules.yaml");
    writeFileSync(rules, readFileSync(rules, "utf8").replace("{target: sn, expression: source.sn}", "{target: sn, expression: source.surname}"));

    const loaded = await loadConfigDirectory(good);
    const ok = renderValidation({ directory: good, resources: loaded.resources, errors: loaded.errors }, "junit");
    assert.match(ok, /<testsuites name="idsync validate" tests="5" failures="0" errors="0">/);
    assert.equal((ok.match(/<testcase /g) ?? []).length, 5);

    const gh = await idsync(["-o", "github", "validate", "-f", bad]);
    assert.equal(gh.code, 1);
    const line = gh.stdout.split("\n").find((l) => l.startsWith("::error "));
    assert.match(line ?? "", new RegExp(`^::error file=${bad.replace(/[/.]/g, (c) => `\\${c}`)}/rules\\.yaml,line=\\d+,col=\\d+,title=idsync%3A SyncRule/hr-person-inbound::spec\\.attributeFlows\\[\\d\\]\\.expression: .*surname`));

    const junit = await idsync(["-o", "junit", "validate", "-f", bad]);
    assert.equal(junit.code, 1);
    assert.match(junit.stdout, /failures="1"/);
    assert.match(junit.stdout, /<testcase classname="[^"]*rules\.yaml" name="SyncRule\/hr-person-inbound"[^>]*>\n\s*<failure type="ConfigError" message="spec\.attributeFlows\[\d\]\.expression: [^"]*surname/);

    const text = await idsync(["validate", "-f", bad]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /rules\.yaml:\d+:\d+: SyncRule\/hr-person-inbound spec\.attributeFlows\[\d\]\.expression: .*surname/);
    assert.match(text.stdout, /1 error\(s\) in /);

    const md = await idsync(["-o", "markdown", "validate", "-f", good]);
    assert.equal(md.code, 1);
    assert.match(md.stderr, /idsync validate does not support -o markdown \(it supports: text, json, github, junit\)/);
    const other = await idsync(["--data-dir", join(root, "state"), "-o", "junit", "history"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /idsync history does not support -o junit \(it supports: text, json\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
