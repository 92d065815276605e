// Building and printing ConfigErrors: every error names the file, line, column, resource and field
// that is known, so `idsync validate` output can be clicked through in an editor or a CI log.
import type { AnyResource, ConfigError } from "./model.ts";
import { positionOf } from "./positions.ts";

/** An error about `resource` (possibly undefined for file-level problems) at field `path`. */
export function resourceError(resource: Partial<AnyResource> | undefined, path: string | undefined, message: string): ConfigError {
  const e: ConfigError = { message };
  const source = resource?.source;
  if (source) {
    e.file = source.file;
    e.document = source.document;
    e.line = source.line;
    const at = resource ? positionOf(resource, path) : undefined;
    // The document's first line is the floor: a field position above it would be a matching bug.
    if (at && at.line >= source.line) {
      e.line = at.line;
      e.column = at.column;
    }
  }
  if (resource?.kind) e.kind = String(resource.kind);
  const name = (resource?.metadata as { name?: unknown } | undefined)?.name;
  if (typeof name === "string" && name !== "") e.name = name;
  if (path) e.path = path;
  return e;
}

/** `examples/x/rules.yaml:12:7: SyncRule/hr-inbound spec.attributeFlows[1].expression: source has no attribute 'sm'` */
export function formatConfigError(e: ConfigError): string {
  let out = "";
  if (e.file) {
    out += e.file;
    if (e.line) out += `:${e.line}${e.column ? `:${e.column}` : ""}`;
    out += ": ";
  }
  const subject = [e.kind || e.name ? `${e.kind ?? "?"}/${e.name ?? "?"}` : "", e.path ?? ""].filter(Boolean).join(" ");
  if (subject) out += `${subject}: `;
  return out + e.message;
}

/** Orders errors by file and position; errors without a file keep their relative order, first. */
export function sortConfigErrors(errors: ConfigError[]): ConfigError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => {
      const fa = a.e.file ?? "";
      const fb = b.e.file ?? "";
      if (fa !== fb) return fa < fb ? -1 : 1;
      if (fa !== "") {
        const d = (a.e.line ?? 0) - (b.e.line ?? 0) || (a.e.column ?? 0) - (b.e.column ?? 0);
        if (d !== 0) return d;
      }
      return a.i - b.i;
    })
    .map((x) => x.e);
}
