// `npm test`: the whole test suite on a fresh machine, with the real servers it needs.
//
//   npm test                               every test/**/*.test.ts
//   npm test -- test/config                 one folder (or files; several allowed)
//   npm test -- --test-name-pattern=join    options starting with "-" go to node's test runner
//
// 1. scripts/ensure-deps.sh installs missing PostgreSQL / slapd / ldap-utils (IDSYNC_SKIP_DEPS=1 skips).
// 2. One throw-away PostgreSQL serves the whole run (unless IDSYNC_TEST_DATABASE_URL already points
//    at a server); test files get their own databases on it through test/harness/postgres.ts.
// 3. node --import tsx --test runs the files, two at a time (the machines have 2 cores); its output,
//    including the closing `# pass` / `# fail` summary, passes through untouched.
// 4. PostgreSQL is stopped at the end, on Ctrl-C and on SIGTERM; the exit code is the test runner's.
//
// Plain JavaScript so it starts without tsx; the server code is shared with the TypeScript harness.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startPostgres } from "../test/harness/postgres-server.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(root);

/** Every *.test.ts under dir, sorted, skipping node_modules and dot-folders. */
function testFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(path));
    else if (entry.name.endsWith(".test.ts")) found.push(path);
  }
  return found.sort();
}

function selectFiles(args) {
  const targets = args.length > 0 ? args : ["test"];
  const files = [];
  for (const target of targets) {
    if (!existsSync(target)) {
      console.error(`npm test: ${target} does not exist`);
      process.exit(2);
    }
    files.push(...(statSync(target).isDirectory() ? testFiles(target) : [target]));
  }
  return [...new Set(files.map((f) => relative(root, resolve(f))))];
}

const runnerOptions = process.argv.slice(2).filter((a) => a.startsWith("-"));
const files = selectFiles(process.argv.slice(2).filter((a) => !a.startsWith("-")));
if (files.length === 0) {
  console.error("npm test: no *.test.ts files found");
  process.exit(2);
}

if (process.env.IDSYNC_SKIP_DEPS !== "1") {
  const deps = spawnSync("bash", [join(root, "scripts/ensure-deps.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  if (deps.status !== 0) {
    console.error("npm test: required programs are missing (see above)");
    process.exit(deps.status ?? 1);
  }
}

let server;
const env = { ...process.env };
if (!env.IDSYNC_TEST_DATABASE_URL) {
  server = await startPostgres();
  env.IDSYNC_TEST_DATABASE_URL = server.url;
  console.log(`npm test: PostgreSQL for this run at ${server.url}`);
}

const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", ...runnerOptions, ...files],
  { stdio: "inherit", env },
);

// Ctrl-C reaches the test runner too (same process group); SIGTERM is for us alone, so pass it on.
// Either way wait for the runner to finish, then stop PostgreSQL below.
let signalled;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.removeAllListeners(sig); // postgres-server.mjs would exit at once, before the runner is done
  process.on(sig, () => {
    signalled ??= sig;
    if (sig !== "SIGINT") child.kill(sig);
  });
}

const code = await new Promise((resolveExit) => {
  child.on("exit", (status, signal) => resolveExit(status ?? (signal ? 128 + ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }[signal] ?? 0) : 1)));
  child.on("error", (err) => {
    console.error(`npm test: could not start the test runner: ${err.message}`);
    resolveExit(1);
  });
});
await server?.stop();
process.exit(signalled ? 128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signalled] : code);
