// `npm run apiserver`: scripts/apiserver.ts starts the server, prints its URL, and stops on Ctrl-C.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { FIXTURE_CRD } from "./helpers.ts";

const SCRIPT = fileURLToPath(new URL("../../scripts/apiserver.ts", import.meta.url));

it("starts standalone with the given CRDs, serves discovery, and exits cleanly on SIGINT", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, "--port", "0", "--crd", FIXTURE_CRD], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.on("exit", killOnExit);
  try {
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m) resolve(m[1]);
      });
      child.on("exit", (code) => reject(new Error(`exited (${code}) before listening: ${output}`)));
    });
    const version = (await (await fetch(`${url}/version`)).json()) as { gitVersion: string };
    assert.match(version.gitVersion, /^v1\.\d+\.\d+$/);
    const group = (await (await fetch(`${url}/apis/idsync.dev/v1alpha1`)).json()) as { resources: Array<{ name: string }> };
    assert.ok(group.resources.some((r) => r.name === "testagents"));

    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    assert.equal(await exited, 0);
  } finally {
    process.off("exit", killOnExit);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
