// `idsync validate -f DIR` and `idsync apply -f DIR`.
import { existsSync } from "node:fs";
import { formatConfigError, loadConfigDirectory } from "../../config/index.ts";
import { loadValidConfig, openEngineFor, UsageError, type GlobalOptions } from "../context.ts";
import type { Output } from "../output.ts";

export async function validateCommand(_g: GlobalOptions, out: Output, dir: string): Promise<number> {
  if (!existsSync(dir)) throw new UsageError(`configuration directory not found: ${dir}`);
  const loaded = await loadConfigDirectory(dir);
  const count = loaded.resources.length;
  if (out.format === "json") {
    out.json({ valid: loaded.errors.length === 0, resources: count, errors: loaded.errors });
  } else if (loaded.errors.length === 0) {
    out.line(`${dir}: ${count} resource(s), valid`);
  } else {
    for (const e of loaded.errors) out.line(formatConfigError(e));
    out.line(`${loaded.errors.length} error(s) in ${dir}`);
  }
  return loaded.errors.length === 0 ? 0 : 1;
}

export async function applyCommand(g: GlobalOptions, out: Output, dir: string): Promise<number> {
  const config = await loadValidConfig(dir);
  const engine = await openEngineFor(g);
  try {
    const result = await engine.apply(config);
    if (out.format === "json") out.json(result);
    else {
      if (result.changed.length === 0) out.line("No configuration changes.");
      for (const c of result.changed) out.line(`${c.kind}/${c.name} ${c.change}`);
      if (result.needsFullSync.length > 0) out.line(`A full sync is due for: ${result.needsFullSync.join(", ")} (the next cycle runs it)`);
    }
    return 0;
  } finally {
    await engine.close();
  }
}
