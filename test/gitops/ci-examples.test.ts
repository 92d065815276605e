// The CI examples are valid workflow YAML, and every idsync command line in them is one the CLI
// accepts: run through the real CLI with a configuration directory that does not exist, each must
// get as far as looking for it (past option parsing and the output-format check).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import yaml from "js-yaml";
import { main } from "../../src/cli/main.ts";

const DIR = new URL("../../examples/ci/", import.meta.url);
const MISSING = "/nonexistent/idsync-ci-example-config";

interface Workflow {
  on: unknown;
  jobs: Record<string, { steps: Array<{ run?: string; uses?: string }> }>;
}

test("the CI examples are workflows whose idsync invocations parse", async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".yml"));
  assert.deepEqual(files.sort(), ["idsync-nightly.yml", "idsync-pull-request.yml"]);
  const commands: string[] = [];
  for (const f of files) {
    const wf = yaml.load(readFileSync(new URL(f, DIR), "utf8"), { schema: yaml.FAILSAFE_SCHEMA }) as Workflow;
    assert.ok(wf.on, `${f}: has triggers`);
    for (const [name, job] of Object.entries(wf.jobs)) {
      assert.ok(job.steps.length > 0, `${f}: job ${name} has steps`);
      for (const step of job.steps) {
        const m = step.run?.replace(/\\\n\s*/g, " ").match(/\/app\/bin\/idsync\.js ([^>|\n]*)/);
        if (m) commands.push(m[1].trim());
      }
    }
  }
  assert.ok(commands.some((c) => / validate -f /.test(` ${c}`)));
  assert.ok(commands.some((c) => / plan -f /.test(c)));
  assert.ok(commands.some((c) => / drift -f /.test(c)));
  for (const c of commands) {
    const argv = c.replace(/"\$CONFIG_DIR"/g, MISSING).replace(/"\$[A-Z_]+"/g, "x").split(/\s+/);
    const saved = { out: process.stdout.write, err: process.stderr.write };
    let stderr = "";
    let code: number;
    try {
      process.stdout.write = (() => true) as typeof process.stdout.write;
      process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
      code = await main(argv);
    } finally {
      process.stdout.write = saved.out;
      process.stderr.write = saved.err;
    }
    assert.equal(code, 1, `idsync ${c}`);
    assert.equal(stderr, `configuration directory not found: ${MISSING}\n`, `idsync ${c}`);
  }
});
