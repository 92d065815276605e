// Which run locks (src/store/lock.ts) a run holds, and what taking them settles about the past.
//
// An import or an export writes one MA's connector space: it holds that MA. A sync writes the
// metaverse, its own connector space and, through provisioning, deprovisioning and the deletion
// rules, every other MA's connector space and pending exports: it holds the metaverse and every MA.
// So imports and exports of different MAs run side by side, and a sync runs alone.
import type { Queryable } from "../store/db.ts";
import type { RunProfile } from "./types.ts";

export const METAVERSE_LOCK = "metaverse";

export function maLock(ma: string): string {
  return `ma:${ma}`;
}

export function lockKeysFor(profile: RunProfile, ma: string, allMas: Iterable<string>): string[] {
  if (profile === "full-sync" || profile === "delta-sync") return everything(allMas, ma);
  return [maLock(ma)];
}

/** The MAs whose locks these keys are. */
export function masCoveredBy(keys: string[]): string[] {
  return keys.flatMap((k) => (k.startsWith("ma:") ? [k.slice(3)] : []));
}

/** The metaverse and every MA: a sync, an erasure, a retention pass, an MA's removal. */
export function everything(allMas: Iterable<string>, ...more: string[]): string[] {
  return [METAVERSE_LOCK, ...[...allMas, ...more].map(maLock)];
}

/**
 * Runs of these MAs still marked `running` belong to a process that ended without finishing
 * (kill -9, a lost node): every run of an MA holds its lock, and the caller holds it now. They are
 * marked `abandoned` so that history, status and the full/delta choice stop waiting for them.
 */
export async function markAbandoned(db: Queryable, mas: string[], now: Date, runBy: string): Promise<number> {
  const r = await db.query(
    `update run_history set status = 'abandoned', finished_at = $2::timestamptz,
            message = 'abandoned: the process running it ended before it finished (found by ' || $3 || ')'
      where status = 'running' and ma = any($1::text[])`,
    [mas, now.toISOString(), runBy],
  );
  return r.rowCount;
}
