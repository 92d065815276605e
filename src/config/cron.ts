// A syntax check for the five-field cron expressions of MA schedules. The operator runs the
// schedule; this only makes sure a typo is a validation error in the pull request, not a silent
// schedule that never fires.

const FIELDS: Array<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  // 0 and 7 are both Sunday, as in Vixie cron.
  { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** Returns what is wrong with a cron expression, or undefined when it is valid. */
export function cronProblem(text: string): string | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) return `cron '${text}' has ${parts.length} fields; it needs 5 (minute hour day-of-month month day-of-week)`;
  for (let i = 0; i < 5; i++) {
    const field = FIELDS[i];
    for (const item of parts[i].split(",")) {
      const m = /^(\*|([0-9a-zA-Z]+)(?:-([0-9a-zA-Z]+))?)(?:\/([0-9]+))?$/.exec(item);
      const bad = `cron '${text}': '${item}' is not a valid ${field.name} (${field.min}-${field.max})`;
      if (!m) return bad;
      const [, , from, to, step] = m;
      const values = [from, to].filter((v): v is string => v !== undefined).map((v) => valueOf(v, field));
      if (values.some((v) => v === undefined || v < field.min || v > field.max)) return bad;
      if (values.length === 2 && values[0]! > values[1]!) return bad;
      if (step !== undefined && Number(step) === 0) return bad;
    }
  }
  return undefined;
}

function valueOf(text: string, field: (typeof FIELDS)[number]): number | undefined {
  if (/^[0-9]+$/.test(text)) return Number(text);
  const i = field.names?.indexOf(text.toLowerCase()) ?? -1;
  return i < 0 ? undefined : i + field.min;
}
