// Where the files a configuration names may lie. A CSV management agent names a file, and a
// configuration comes from a pull request: its path must not read /etc/shadow or write
// ../../somewhere/else. Two policies:
//
//   local (the CLI)     a relative path is relative to the YAML file that declares it, and the file
//                       must lie inside the configuration folder (the directory given with -f) or
//                       inside a folder allowed with --allow-paths DIR;
//   roots (operator)    the path is `<root>/<path inside it>`: its first segment names a CSV root,
//                       a directory the operator was given (--csv-root NAME=DIR, the chart's
//                       csv.roots). Absolute paths, and `..` that leaves the root, are refused.
//
// This is the lexical check, made at validation (errors name file, line, object and field) and
// again when the connector is created. Before it opens or creates anything, the connector also
// follows symbolic links (connectors/files.ts): a link that leads out of the root is refused too.
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from "node:path";
import type { ManagementAgent } from "./model.ts";

/** A named directory the operator may read and write CSV files in. */
export interface DataRoot {
  name: string;
  /** An absolute directory. */
  dir: string;
}

export type PathPolicy =
  /** The CLI: inside the configuration folder, or a folder in `allow`. */
  | { kind: "local"; allow?: readonly string[] }
  /** The operator: `<root>/<path>` under one of `roots`. */
  | { kind: "roots"; roots: readonly DataRoot[] };

/** Where a resource's relative paths start from. */
export interface PathOrigin {
  /** The directory of the YAML file that declared the path. */
  baseDir: string;
  /** The configuration folder it was loaded from (local mode); default baseDir. */
  configRoot?: string;
}

export type ResolvedPath =
  | { ok: true; /** absolute */ file: string; /** the absolute directory the file must stay in */ root: string }
  | { ok: false; message: string };

/** A root name: what a Kubernetes volume name allows (the chart names the volume csv-<name>). */
export const ROOT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Where the paths of `ma` start from: its YAML file's directory and configuration folder. */
export function originOf(ma: Pick<ManagementAgent, "source">, defaultBaseDir = process.cwd()): PathOrigin {
  const baseDir = ma.source?.file ? dirname(ma.source.file) : defaultBaseDir;
  return { baseDir, configRoot: ma.source?.root ?? baseDir };
}

/** The absolute file `path` names under `policy`, or why it may not be used. */
export function resolveDataPath(policy: PathPolicy, path: string, origin: PathOrigin): ResolvedPath {
  if (path.includes("\u0000")) return { ok: false, message: "the path holds a NUL character" };
  return policy.kind === "local" ? resolveLocal(policy.allow ?? [], path, origin) : resolveUnderRoot(policy.roots, path);
}

function resolveLocal(allow: readonly string[], path: string, origin: PathOrigin): ResolvedPath {
  const configRoot = origin.configRoot ?? origin.baseDir;
  const file = resolve(origin.baseDir, path);
  for (const dir of [configRoot, ...allow]) {
    const root = resolve(dir);
    if (isWithin(file, root)) return { ok: true, file, root };
  }
  const where = isAbsolute(path) ? "" : ` (${file})`;
  const allowed = allow.length > 0 ? `, nor in a folder allowed with --allow-paths (${allow.join(", ")})` : "";
  return {
    ok: false,
    message:
      `'${path}'${where} is not in the configuration folder ${configRoot}${allowed}: ` +
      `a relative path is relative to the YAML file and may not leave that folder; allow another folder with --allow-paths DIR`,
  };
}

function resolveUnderRoot(roots: readonly DataRoot[], path: string): ResolvedPath {
  const names = roots.map((r) => r.name).join(", ");
  if (roots.length === 0) {
    return {
      ok: false,
      message: `the operator has no CSV root, so no CSV file can be named: declare one in the chart's csv.roots (operator flag --csv-root NAME=DIR) and write '<root>/${path.replace(/^\/+/, "")}'`,
    };
  }
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\")) {
    return {
      ok: false,
      message: `'${path}' is an absolute path: in the operator a CSV path is '<root>/<path inside it>', the root being one the chart declares in csv.roots (${names})`,
    };
  }
  const slash = path.indexOf("/");
  const name = slash === -1 ? path : path.slice(0, slash);
  const root = roots.find((r) => r.name === name);
  if (!root) {
    return {
      ok: false,
      message: `'${path}' does not start with a CSV root: a CSV path is '<root>/<path inside it>', the root being one of ${names} (the chart's csv.roots)`,
    };
  }
  const inner = posix.normalize(slash === -1 ? "" : path.slice(slash + 1));
  if (inner === "." || inner === "" || inner === "/") return { ok: false, message: `'${path}' names CSV root '${name}' itself, not a file in it` };
  if (inner === ".." || inner.startsWith("../")) return { ok: false, message: `'${path}' leaves CSV root '${name}' ('..' may not climb out of the root)` };
  return { ok: true, file: join(root.dir, inner), root: root.dir };
}

/** Whether `file` lies strictly inside directory `root` (both absolute and normalized). */
export function isWithin(file: string, root: string): boolean {
  const rel = relative(root, file);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Parses `NAME=DIR` root declarations (the operator's --csv-root, or IDSYNC_CSV_ROOTS with several
 * separated by commas). Throws on a malformed one, a relative DIR or a name given twice.
 */
export function parseDataRoots(specs: readonly string[]): DataRoot[] {
  const roots: DataRoot[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const name = eq === -1 ? "" : spec.slice(0, eq).trim();
    const dir = eq === -1 ? "" : spec.slice(eq + 1).trim();
    if (!ROOT_NAME.test(name) || name.length > 57 || dir === "") {
      throw new Error(`--csv-root '${spec}': expected NAME=DIR, NAME of lower-case letters, digits and '-' (at most 57), e.g. hr=/var/lib/idsync/csv/hr`);
    }
    if (!isAbsolute(dir)) throw new Error(`--csv-root '${spec}': the directory must be an absolute path`);
    if (roots.some((r) => r.name === name)) throw new Error(`--csv-root: root '${name}' is declared twice`);
    roots.push({ name, dir: resolve(dir) });
  }
  return roots;
}
