// Files a connector opens stay inside their root, symbolic links included. Validation checked the
// path as written (config/paths.ts); a link inside the root that points out of it — committed to
// git, or made on the volume — is only seen here, at run time, before anything is opened.
import { lstat, realpath } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isWithin } from "../config/paths.ts";

/** A file that lies, or whose symbolic links lead, outside the folder it must stay in. */
export class PathOutsideRootError extends Error {
  override name = "PathOutsideRootError";
}

const missingCodes = new Set(["ENOENT", "ENOTDIR"]);

/**
 * The real path of `file` — symbolic links resolved, the part that does not exist yet kept as
 * named — refusing one that is not inside `root` (itself resolved). Opens and creates nothing.
 * Open the path returned, not `file`: then what was checked is what gets opened.
 */
export async function realPathWithin(file: string, root: string): Promise<string> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (e) {
    throw new PathOutsideRootError(`${file}: the folder it must be in, ${root}, cannot be used: ${(e as Error).message}`);
  }
  const missing: string[] = [];
  let at = file;
  let real: string;
  for (;;) {
    try {
      real = join(await realpath(at), ...missing);
      break;
    } catch (e) {
      if (!missingCodes.has((e as NodeJS.ErrnoException).code ?? "")) throw new Error(`${file}: ${(e as Error).message}`);
    }
    // Not there: unless it is a link to nowhere (which a write would follow), look at the parent.
    const link = await lstat(at).then(
      (s) => s.isSymbolicLink(),
      () => false,
    );
    if (link) throw new PathOutsideRootError(`${file}: ${at} is a symbolic link to something that does not exist; idsync does not follow it`);
    const parent = dirname(at);
    if (parent === at) throw new Error(`${file}: no part of the path exists`);
    missing.unshift(at.slice(parent.length).replace(/^[\\/]+/, ""));
    at = parent;
  }
  if (!isWithin(real, realRoot)) {
    const how = real === file ? "is" : `leads (through a symbolic link) to ${real}, which is`;
    throw new PathOutsideRootError(`${file} ${how} outside ${root}, the folder it must stay in`);
  }
  return real;
}
