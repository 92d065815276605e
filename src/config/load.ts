// Reading a directory of YAML files (local / GitOps mode): every *.yaml and *.yml under the tree,
// in sorted order, every document of each. Documents that are not idsync.dev resources (a
// kustomization, a Secret, a Helm values file) are skipped without a word; an idsync.dev document of
// a kind or version this build does not know is an error, since it was surely meant for us.
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { API_GROUP, API_VERSION, type AnyResource, type ConfigError, type ConfigSet, type Kind } from "./model.ts";
import { attachPositions, parseDocumentsWithPositions } from "./positions.ts";
import { sortConfigErrors } from "./errors.ts";
import { validateResources } from "./validate.ts";
import { formatBytes, MAX_CONFIG_FILE_BYTES, MAX_RESOURCE_BYTES } from "./limits.ts";
import type { PathPolicy } from "./paths.ts";

export interface LoadOptions {
  /**
   * Where the CSV files the resources name may lie. The CLI passes `{kind: "local", allow}`: inside
   * the configuration folder (`dir`), or in a folder of `allow` (its --allow-paths); any other path
   * is a validation error. Absent: paths are not checked (a library caller's choice).
   */
  paths?: PathPolicy;
}

export interface LoadResult {
  /** Every idsync.dev resource read, valid or not, with `source` set and schema defaults applied. */
  resources: AnyResource[];
  errors: ConfigError[];
  /** Present only when there are no errors. */
  config?: ConfigSet;
}

const KINDS: ReadonlySet<string> = new Set<Kind>(["ManagementAgent", "SyncRule", "RetentionPolicy"]);

/**
 * Loads and validates every resource under `dir` (a single file is accepted too). File paths in
 * `source` and in errors are `dir` joined with the path below it, so they are relative when `dir` is.
 * `dir` (a single file's directory) is the configuration folder, recorded as `source.root`: with
 * `options.paths` the CSV files the resources name must lie in it (config/paths.ts).
 */
export async function loadConfigDirectory(dir: string, options: LoadOptions = {}): Promise<LoadResult> {
  const errors: ConfigError[] = [];
  const resources: AnyResource[] = [];
  // Resources too big to validate: known by kind and name only (so nothing that names them cascades).
  const tooBig: AnyResource[] = [];
  let files: string[];
  let root: string;
  try {
    const isDirectory = (await stat(dir)).isDirectory();
    files = isDirectory ? await yamlFilesUnder(dir) : [dir];
    root = isDirectory ? dir : dirname(dir);
  } catch (e) {
    return { resources, errors: [{ file: dir, message: `cannot read configuration: ${(e as Error).message}` }] };
  }
  if (files.length === 0) {
    return { resources, errors: [{ file: dir, message: "no *.yaml or *.yml files found" }] };
  }
  for (const file of files) {
    const size = (await stat(file)).size;
    if (size > MAX_CONFIG_FILE_BYTES) {
      errors.push({ file, line: 1, message: `the file is ${formatBytes(size)}; a configuration file may be at most ${formatBytes(MAX_CONFIG_FILE_BYTES)}` });
      continue;
    }
    const text = await readFile(file, "utf8");
    let documents;
    try {
      documents = parseDocumentsWithPositions(text, file);
    } catch (e) {
      const mark = (e as { mark?: { line: number; column: number } }).mark;
      const reason = (e as { reason?: string }).reason ?? (e as Error).message;
      errors.push({ file, line: mark ? mark.line + 1 : undefined, column: mark ? mark.column + 1 : undefined, message: `YAML syntax error: ${reason}` });
      continue;
    }
    documents.forEach((doc, index) => {
      const value = doc.value as Record<string, unknown> | null | undefined;
      if (value === null || typeof value !== "object" || Array.isArray(value)) return;
      const where = { file, line: doc.line, document: index };
      const kind = typeof value.kind === "string" ? value.kind : undefined;
      const apiVersion = value.apiVersion;
      const name = typeof (value.metadata as { name?: unknown } | undefined)?.name === "string" ? ((value.metadata as { name: string }).name) : undefined;
      if (typeof apiVersion !== "string" || !apiVersion.startsWith(`${API_GROUP}/`)) {
        // A document that looks like ours but lost its apiVersion would otherwise vanish silently.
        if (apiVersion === undefined && kind && KINDS.has(kind)) {
          errors.push({ ...where, kind, name, path: "apiVersion", message: `apiVersion is required: ${API_VERSION}` });
        }
        return;
      }
      if (!kind || !KINDS.has(kind)) {
        errors.push({ ...where, kind, name, path: "kind", message: `unknown kind ${JSON.stringify(value.kind)} in ${apiVersion} (idsync.dev has ManagementAgent, SyncRule, RetentionPolicy)` });
        return;
      }
      if (apiVersion !== API_VERSION) {
        errors.push({ ...where, kind, name, path: "apiVersion", message: `unsupported apiVersion ${apiVersion} (this version reads ${API_VERSION})` });
        return;
      }
      const resource = value as unknown as AnyResource;
      resource.source = { ...where, root };
      attachPositions(resource, doc.fields);
      resources.push(resource);
      const bytes = Buffer.byteLength(JSON.stringify(value));
      if (bytes > MAX_RESOURCE_BYTES) {
        errors.push({
          ...where,
          kind,
          name,
          message: `the resource is ${formatBytes(bytes)} (as JSON); a resource may be at most ${formatBytes(MAX_RESOURCE_BYTES)} (the Kubernetes API stores no object over about 1.5 MiB)`,
        });
        tooBig.push(resource);
      }
    });
  }
  const skipped = new Set(tooBig);
  const checked = resources.filter((r) => !skipped.has(r));
  const validated = validateResources(checked, { paths: options.paths, unvalidated: tooBig });
  const all = sortConfigErrors([...errors, ...validated.errors]);
  return all.length > 0 ? { resources, errors: all } : { resources, errors: all, config: validated.config };
}

/** *.yaml / *.yml below dir, recursively, in a stable order; hidden directories and node_modules are skipped. */
async function yamlFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".") && entry.name !== "node_modules") await walk(full);
      } else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) {
        out.push(full);
      }
    }
  };
  await walk(dir);
  const key = (f: string) => relative(dir, f).split(sep).join("/");
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
