// A new user's initial password: random, strong, used once in the add and then forgotten. It is
// never stored, logged or returned; the account's owner gets a new one through the help desk or a
// self-service reset, and by default must change it at first logon anyway.
import { randomInt } from "node:crypto";

const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER = "abcdefghijkmnopqrstuvwxyz";
const DIGITS = "23456789";
const SYMBOLS = "!#%+-=?@^_~";
const ALL = UPPER + LOWER + DIGITS + SYMBOLS;
export const INITIAL_PASSWORD_LENGTH = 24;

/**
 * 24 characters from a CSPRNG with every character class present: it meets AD's complexity rule
 * (three of four classes, no part of the account name: 24 random characters never spell one) and
 * any length policy up to 24; about 150 bits of entropy.
 */
export function randomInitialPassword(length = INITIAL_PASSWORD_LENGTH): string {
  const chars = [UPPER, LOWER, DIGITS, SYMBOLS].map((set) => set[randomInt(set.length)]);
  while (chars.length < length) chars.push(ALL[randomInt(ALL.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join("");
}

/** unicodePwd's wire form: the password in double quotes, UTF-16LE. */
export function unicodePwd(password: string): Buffer {
  return Buffer.from(`"${password}"`, "utf16le");
}
