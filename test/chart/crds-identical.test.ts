// Helm installs CRDs from the chart's crds/ directory, which cannot be templated or symlinked
// reliably (helm package does not follow symlinks). So it holds copies, and this keeps them
// byte-for-byte equal to the repository's crds/, the single source of truth.
// To fix a failure: cp crds/*.yaml charts/idsync/crds/
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CHART_DIR } from "./render.ts";

const REPO_CRDS = fileURLToPath(new URL("../../crds/", import.meta.url));
const CHART_CRDS = join(CHART_DIR, "crds");
const yamls = (dir: string) => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();

describe("the chart's CRDs", () => {
  it("are exactly the repository's crds/", () => {
    assert.deepEqual(yamls(CHART_CRDS), yamls(REPO_CRDS), "same files (cp crds/*.yaml charts/idsync/crds/)");
    for (const f of yamls(REPO_CRDS)) {
      assert.ok(readFileSync(join(CHART_CRDS, f)).equals(readFileSync(join(REPO_CRDS, f))), `charts/idsync/crds/${f} differs from crds/${f} (cp crds/*.yaml charts/idsync/crds/)`);
    }
  });
});
