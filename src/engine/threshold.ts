// The deletion guard, pure: whether deleting `deletes` of an MA's `total` objects trips its
// threshold. Imports (what the source no longer shows) and exports (what the engine would delete
// downstream) both ask it before the first delete, so that an empty HR file can neither wipe the
// metaverse nor the directory without somebody saying so.
import { DEFAULT_DELETION_THRESHOLD, type DeletionThreshold } from "../config/model.ts";

export interface ThresholdVerdict {
  exceeded: boolean;
  /** "300 deletes of 300 objects (100.0%) exceed maxPercent 10", for messages. */
  reason?: string;
}

/** The declared threshold, or the default one when the MA declares none. */
export function effectiveThreshold(declared: DeletionThreshold | undefined): DeletionThreshold {
  return declared ?? { ...DEFAULT_DELETION_THRESHOLD };
}

export function judgeDeletes(t: DeletionThreshold, deletes: number, total: number): ThresholdVerdict {
  if (t.maxDeletes !== undefined && deletes > t.maxDeletes) return { exceeded: true, reason: `${deletes} deletes exceed maxDeletes ${t.maxDeletes}` };
  if (t.maxPercent !== undefined && total > 0 && deletes > (t.minDeletes ?? 0)) {
    const percent = (deletes * 100) / total;
    if (percent > t.maxPercent) {
      return { exceeded: true, reason: `${deletes} deletes of ${total} objects (${percent.toFixed(1)}%) exceed maxPercent ${t.maxPercent}` };
    }
  }
  return { exceeded: false };
}
