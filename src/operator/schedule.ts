// MA schedules: `every: 5m` intervals and five-field cron expressions (UTC), as declared in
// spec.schedule. nextDue() is a pure function; Scheduler is the timer loop over it.
//
// Intervals count from when this replica started leading (or first saw the entry), not from the last
// run in the database: after a failover an interval restarts, which at worst delays one run by one
// interval and never runs a profile twice in a row.
import { parseDuration } from "../config/duration.ts";
import type { ScheduleEntry } from "../config/model.ts";

export interface CronSpec {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** Vixie cron: when both day fields are restricted, a day matches if EITHER matches. */
  domRestricted: boolean;
  dowRestricted: boolean;
}

const FIELDS = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

function valueOf(text: string, i: number): number {
  if (/^[0-9]+$/.test(text)) return Number(text);
  const names = FIELDS[i].names;
  const at = names ? names.indexOf(text.toLowerCase()) : -1;
  if (at < 0) throw new Error(`'${text}' is not a value`);
  return at + FIELDS[i].min;
}

function parseField(text: string, i: number): Set<number> {
  const { min, max } = FIELDS[i];
  const out = new Set<number>();
  for (const item of text.split(",")) {
    const m = /^(\*|([0-9a-zA-Z]+)(?:-([0-9a-zA-Z]+))?)(?:\/([0-9]+))?$/.exec(item);
    if (!m) throw new Error(`'${item}' is not a valid cron field`);
    const [, star, from, to, stepText] = m;
    const lo = star === "*" ? min : valueOf(from, i);
    const hi = star === "*" ? max : to !== undefined ? valueOf(to, i) : stepText !== undefined ? max : lo;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (lo < min || hi > max || lo > hi || step < 1) throw new Error(`'${item}' is out of range ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(i === 4 && v === 7 ? 0 : v); // 7 is Sunday too
  }
  return out;
}

/** Parses a five-field cron expression (minute hour day-of-month month day-of-week); throws on error. */
export function parseCron(text: string): CronSpec {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron '${text}' has ${parts.length} fields; it needs 5`);
  try {
    const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((p, i) => parseField(p, i));
    return { minutes, hours, daysOfMonth, months, daysOfWeek, domRestricted: parts[2] !== "*", dowRestricted: parts[4] !== "*" };
  } catch (e) {
    throw new Error(`cron '${text}': ${(e as Error).message}`);
  }
}

function dayMatches(c: CronSpec, d: Date): boolean {
  const dom = c.daysOfMonth.has(d.getUTCDate());
  const dow = c.daysOfWeek.has(d.getUTCDay());
  if (c.domRestricted && c.dowRestricted) return dom || dow;
  return dom && dow;
}

/** The first minute strictly after `after` that the cron expression matches (UTC). */
export function nextCronTime(c: CronSpec, after: Date): Date {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  // Bounded: every valid expression matches within 8 years (Feb 29 on a given weekday takes < 28).
  const limit = after.getTime() + 8 * 366 * 86_400_000;
  while (t.getTime() <= limit) {
    if (!c.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(c, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!c.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!c.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  throw new Error("cron expression never matches (e.g. 31 February)");
}

/** When the entry is next due, strictly after `after`. */
export function nextDue(entry: ScheduleEntry, after: Date): Date {
  if (entry.every !== undefined) {
    const ms = parseDuration(entry.every);
    if (ms <= 0) throw new Error(`schedule interval '${entry.every}' must be positive`);
    return new Date(after.getTime() + ms);
  }
  if (entry.cron !== undefined) return nextCronTime(parseCron(entry.cron), after);
  throw new Error("a schedule entry needs `every` or `cron`");
}

export interface ScheduledRun {
  ma: string;
  profile: ScheduleEntry["profile"];
  /** Why it runs, for logs and events: e.g. "schedule every 5m". */
  reason: string;
}

interface Slot {
  ma: string;
  entry: ScheduleEntry;
  due: Date;
}

/**
 * The timer loop: holds the next due time of every (MA, entry) and fires `onDue` when it passes.
 * setSchedules() replaces the declared set; unchanged entries keep their due time.
 */
export class Scheduler {
  private slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly onDue: (run: ScheduledRun) => void,
    private readonly opts: { now?: () => Date; onError?: (ma: string, entry: ScheduleEntry, e: Error) => void } = {},
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  setSchedules(schedules: Array<{ ma: string; entries: ScheduleEntry[] }>): void {
    const next = new Map<string, Slot>();
    const now = this.now();
    for (const { ma, entries } of schedules) {
      entries.forEach((entry) => {
        const key = `${ma}\u0000${JSON.stringify([entry.profile, entry.every ?? null, entry.cron ?? null])}`;
        const kept = this.slots.get(key);
        if (kept) return next.set(key, kept);
        try {
          next.set(key, { ma, entry, due: nextDue(entry, now) });
        } catch (e) {
          this.opts.onError?.(ma, entry, e as Error);
        }
      });
    }
    this.slots = next;
    if (this.running) this.arm();
  }

  /** The next due time per MA and entry (status, tests). */
  upcoming(): Array<{ ma: string; entry: ScheduleEntry; due: Date }> {
    return [...this.slots.values()].map((s) => ({ ...s })).sort((a, b) => a.due.getTime() - b.due.getTime());
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Fires every slot that is due at `now`; returns how many fired. Exposed for the timer and tests. */
  fireDue(): number {
    const now = this.now();
    let fired = 0;
    for (const slot of this.slots.values()) {
      if (slot.due.getTime() > now.getTime()) continue;
      fired++;
      const what = slot.entry.every !== undefined ? `every ${slot.entry.every}` : `cron '${slot.entry.cron}'`;
      // The next time counts from now, not from the missed due time: a long pause fires once, not in a burst.
      slot.due = nextDue(slot.entry, now);
      this.onDue({ ma: slot.ma, profile: slot.entry.profile, reason: `schedule ${what}` });
    }
    return fired;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running || this.slots.size === 0) return;
    const earliest = Math.min(...[...this.slots.values()].map((s) => s.due.getTime()));
    // Wake at most every minute: timers drift, and the wall clock may jump (NTP, suspended VMs).
    const delay = Math.max(0, Math.min(earliest - this.now().getTime(), 60_000));
    this.timer = setTimeout(() => {
      this.fireDue();
      this.arm();
    }, delay);
    this.timer.unref();
  }
}
