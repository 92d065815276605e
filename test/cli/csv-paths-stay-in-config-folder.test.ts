// The CLI keeps a CSV path relative to the YAML file and inside the configuration folder (-f DIR):
// an absolute path elsewhere (`/tmp/…/secret-data.csv`) or a `..` that climbs out
// (`../../tmp/…/exfil.csv`) is a validation error naming file, line, object and field, unless the
// folder it lands in is allowed with --allow-paths DIR (repeatable, or IDSYNC_ALLOW_PATHS).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { idsync } from "../engine/cli-process.ts";

const base = mkdtempSync(join(tmpdir(), "idsync-paths-"));
after(() => rmSync(base, { recursive: true, force: true }));
const conf = join(base, "conf");
const secrets = join(base, "secrets");
const outside = join(base, "outside");
for (const d of [join(conf, "agents"), join(conf, "data"), secrets, outside]) mkdirSync(d, { recursive: true });
writeFileSync(join(secrets, "secret-data.csv"), "employeeId\nE1\n", { mode: 0o600 });

const ma = (name: string, path: string) => `---
apiVersion: idsync.dev/v1alpha1
kind: ManagementAgent
metadata:
  name: ${name}
spec:
  connector:
    type: csv
    csv: {path: ${JSON.stringify(path)}}
  objectTypes:
    - name: person
      anchor: [employeeId]
      attributes: [{name: employeeId}]
`;
// agents/all.yaml sits one folder down: `../data/x.csv` is still inside the configuration folder.
const exfil = relative(join(conf, "agents"), join(outside, "exfil.csv"));
writeFileSync(
  join(conf, "agents", "all.yaml"),
  ma("inside", "../data/hr.csv") + ma("leak", join(secrets, "secret-data.csv")) + ma("exfil", exfil) + ma("roundabout", "../agents/../data/x.csv"),
);
const file = join(conf, "agents", "all.yaml");

test("a path that leaves the configuration folder is an error with file, line, object and field", async () => {
  const r = await idsync(["validate", "-f", conf]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stdout.split("\n").filter((l) => l.includes("spec.connector.csv.path"));
  assert.equal(lines.length, 2, r.stdout);
  // Each names the file, the line and column of the field, the object and the field.
  assert.match(lines[0], new RegExp(`^${file}:22:11: ManagementAgent/leak spec\\.connector\\.csv\\.path: '${join(secrets, "secret-data.csv")}' is not in the configuration folder ${conf}`));
  assert.match(lines[1], new RegExp(`^${file}:35:11: ManagementAgent/exfil spec\\.connector\\.csv\\.path: '${exfil.replace(/\./g, "\\.")}' \\(${join(outside, "exfil.csv")}\\) is not in the configuration folder`));
  assert.match(lines[1], /--allow-paths DIR/);
  assert.doesNotMatch(r.stdout, /ManagementAgent\/(inside|roundabout)/, "paths inside the folder, however they get there, are fine");
});

test("--allow-paths DIR allows that folder, and only that one", async () => {
  const r = await idsync(["--allow-paths", outside, "validate", "-f", conf]);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout, /ManagementAgent\/exfil/);
  assert.match(r.stdout, /ManagementAgent\/leak spec\.connector\.csv\.path: .* nor in a folder allowed with --allow-paths/);

  const both = await idsync(["--allow-paths", outside, "--allow-paths", secrets, "validate", "-f", conf]);
  assert.equal(both.code, 0, both.stdout + both.stderr);
});

test("IDSYNC_ALLOW_PATHS does what --allow-paths does (folders separated as in PATH)", async () => {
  const r = await idsync(["validate", "-f", conf], { env: { IDSYNC_ALLOW_PATHS: `${outside}:${secrets}` } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test("apply refuses the configuration before anything reaches the engine", async () => {
  const r = await idsync(["--data-dir", join(base, "state"), "apply", "-f", conf]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /configuration error\(s\)/);
  assert.match(r.stderr, /ManagementAgent\/leak spec\.connector\.csv\.path/);
});
