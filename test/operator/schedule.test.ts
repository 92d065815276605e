// MA schedules: when `every` and five-field cron entries are next due (UTC), and the timer loop's
// bookkeeping (a late tick fires once; unchanged entries keep their due time across re-declaration).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextCronTime, nextDue, parseCron, Scheduler, type ScheduledRun } from "../../src/operator/schedule.ts";

const at = (iso: string) => new Date(iso);
const next = (cron: string, after: string) => nextCronTime(parseCron(cron), at(after)).toISOString();

describe("schedule", () => {
  it("adds the interval for `every`", () => {
    assert.equal(nextDue({ profile: "delta-import", every: "5m" }, at("2025-01-01T00:00:00Z")).toISOString(), "2025-01-01T00:05:00.000Z");
    assert.equal(nextDue({ profile: "cycle", every: "1h30m" }, at("2025-01-01T23:00:00Z")).toISOString(), "2025-01-02T00:30:00.000Z");
  });

  it("finds the next matching minute, strictly after the given time", () => {
    assert.equal(next("*/15 * * * *", "2025-01-01T10:07:30Z"), "2025-01-01T10:15:00.000Z");
    assert.equal(next("*/15 * * * *", "2025-01-01T10:15:00Z"), "2025-01-01T10:30:00.000Z");
    assert.equal(next("0 3 * * 0", "2025-01-01T00:00:00Z"), "2025-01-05T03:00:00.000Z"); // the first Sunday
    assert.equal(next("0 3 * * sun", "2025-01-05T03:00:00Z"), "2025-01-12T03:00:00.000Z");
    assert.equal(next("0 0 1 jan *", "2025-03-01T00:00:00Z"), "2026-01-01T00:00:00.000Z");
    assert.equal(next("30 12 29 2 *", "2025-01-01T00:00:00Z"), "2028-02-29T12:30:00.000Z"); // leap day
    assert.equal(next("0 9-17/4 * * mon-fri", "2025-01-03T17:01:00Z"), "2025-01-06T09:00:00.000Z"); // Fri → Mon
    assert.equal(next("0 0 * * 7", "2025-01-01T00:00:00Z"), "2025-01-05T00:00:00.000Z"); // 7 is Sunday too
  });

  it("matches either day field when both are restricted (Vixie cron)", () => {
    // The 15th of the month OR a Monday: from Tue 2025-01-07 the next is Mon 13th, then Wed 15th.
    assert.equal(next("0 0 15 * 1", "2025-01-07T00:00:00Z"), "2025-01-13T00:00:00.000Z");
    assert.equal(next("0 0 15 * 1", "2025-01-13T00:00:00Z"), "2025-01-15T00:00:00.000Z");
  });

  it("rejects what cannot be a cron expression", () => {
    assert.throws(() => parseCron("* * * *"), /5/);
    assert.throws(() => parseCron("60 * * * *"), /out of range/);
    assert.throws(() => parseCron("*/0 * * * *"), /cron/);
    assert.throws(() => nextCronTime(parseCron("0 0 31 2 *"), at("2025-01-01T00:00:00Z")), /never/);
  });

  it("fires due entries once per tick and keeps due times of unchanged entries", () => {
    let now = at("2025-01-01T00:00:00Z");
    const fired: ScheduledRun[] = [];
    const s = new Scheduler((r) => fired.push(r), { now: () => now });
    s.setSchedules([{ ma: "hr", entries: [{ profile: "delta-import", every: "5m" }, { profile: "full-import", cron: "0 3 * * *" }] }]);
    assert.equal(s.upcoming()[0].due.toISOString(), "2025-01-01T00:05:00.000Z");

    now = at("2025-01-01T00:04:59Z");
    assert.equal(s.fireDue(), 0);
    now = at("2025-01-01T00:21:00Z"); // late by several intervals: one run, not a burst
    assert.equal(s.fireDue(), 1);
    assert.deepEqual(fired, [{ ma: "hr", profile: "delta-import", reason: "schedule every 5m" }]);
    assert.equal(s.upcoming()[0].due.toISOString(), "2025-01-01T00:26:00.000Z");

    s.setSchedules([{ ma: "hr", entries: [{ profile: "delta-import", every: "5m" }] }]);
    assert.equal(s.upcoming().length, 1, "the removed cron entry is gone");
    assert.equal(s.upcoming()[0].due.toISOString(), "2025-01-01T00:26:00.000Z", "the kept entry keeps its due time");
  });
});
