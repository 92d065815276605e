// Durations as users write them in configuration: 30d, 12h, 15m, 90d, or compounds like 1h30m.
// Units: s, m, h, d (24 h), w (7 d). Kept deliberately small: no fractions, no months or years
// (their length varies, and retention periods must mean the same thing every time).

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const WHOLE = /^(?:[0-9]+[smhdw])+$/;
const PART = /([0-9]+)([smhdw])/g;

/** Parses a duration such as "30d" or "1h30m" into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  if (typeof text !== "string" || !WHOLE.test(text)) {
    throw new Error(`'${String(text)}' is not a duration (expected e.g. 30s, 15m, 12h, 30d, 2w or 1h30m)`);
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit];
  if (!Number.isSafeInteger(ms)) throw new Error(`duration '${text}' is too long`);
  return ms;
}
