// `idsync apply -f DIR` (`idsync validate` is in gitops.ts, beside plan and drift).
import { loadValidConfig, openEngineFor, type GlobalOptions } from "../context.ts";
import type { Output } from "../output.ts";

export async function applyCommand(g: GlobalOptions, out: Output, dir: string): Promise<number> {
  const config = await loadValidConfig(dir, g);
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
