// The audit trail of what was done to personal data: who, when, what kind of action, on which
// subject (a salted hash, never a name or an anchor), and counts. No value ever goes in: the
// details are checked here, so a caller cannot slip a string in by mistake.
import type { Queryable } from "../store/db.ts";

export type AuditAction = "subject-erase" | "subject-export" | "retention-purge" | "subject-unsuppress";

/** Details: counts (numbers), MA names and dates (known keys only), nested one level. */
export type AuditDetails = Record<string, number | boolean | string | Record<string, number>>;

/** Keys whose string values are allowed: configuration names and timestamps, not personal data. */
const STRING_KEYS = new Set(["mode", "connectorSpaceCutoff", "runHistoryCutoff"]);

export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  action: AuditAction;
  subjectHash: string | null;
  details: AuditDetails;
}

export function currentActor(explicit?: string): string {
  return explicit || process.env.USER || process.env.USERNAME || "unknown";
}

function checkDetails(details: AuditDetails): void {
  for (const [k, v] of Object.entries(details)) {
    if (typeof v === "string" && !STRING_KEYS.has(k)) throw new Error(`audit detail '${k}' must be a count, not text`);
    if (typeof v === "object") {
      for (const [k2, n] of Object.entries(v)) if (typeof n !== "number") throw new Error(`audit detail '${k}.${k2}' must be a count`);
    }
  }
}

export async function recordAudit(
  db: Queryable,
  event: { at: Date; actor: string; action: AuditAction; subjectHash?: string; details: AuditDetails },
): Promise<void> {
  checkDetails(event.details);
  await db.query(`insert into audit_event (at, actor, action, subject_hash, details) values ($1, $2, $3, $4, $5::jsonb)`, [
    event.at.toISOString(),
    event.actor,
    event.action,
    event.subjectHash ?? null,
    JSON.stringify(event.details),
  ]);
}

export async function listAudit(db: Queryable, opts: { limit?: number; subjectHash?: string } = {}): Promise<AuditEvent[]> {
  const rows = (
    await db.query<{ id: number; at: Date | string; actor: string; action: AuditAction; subject_hash: string | null; details: AuditDetails }>(
      `select id, at, actor, action, subject_hash, details from audit_event
        where ($1::text is null or subject_hash = $1) order by id desc limit $2`,
      [opts.subjectHash ?? null, opts.limit ?? 50],
    )
  ).rows;
  return rows.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, subjectHash: r.subject_hash, details: r.details }));
}
