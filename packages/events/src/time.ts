import { z } from 'zod';

/**
 * RFC 3339 date-time (section 5.6), upper-case `T` and `Z` only so a timestamp
 * has one spelling per offset. Seconds are required (RFC 3339 requires them);
 * fractions up to nanoseconds; offset `Z` or ±hh:mm.
 */
const rfc3339 =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|([+-])([0-9]{2}):([0-9]{2}))$/;

/** The only form `recordedAt` may take: `Date.prototype.toISOString()` output, UTC, milliseconds. */
const utcMillis = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The number written by the two digits at `at` (the pattern matched, so they are digits). */
function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

/**
 * True exactly when `rfc3339Problem(text)` is undefined, without its match array, number parsing
 * and messages: every event's two timestamps pass through here. Once the pattern matched, each
 * field sits at a fixed place (the fraction only moves the zone, which ends the text).
 */
export function isRfc3339(text: string): boolean {
  if (!rfc3339.test(text)) return false;
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > daysInMonth(twoDigits(text, 0) * 100 + twoDigits(text, 2), month)) return false;
  if (twoDigits(text, 11) > 23 || twoDigits(text, 14) > 59 || twoDigits(text, 17) > 59) return false;
  const end = text.length;
  return (
    text.charCodeAt(end - 1) === 0x5a || (twoDigits(text, end - 5) <= 23 && twoDigits(text, end - 2) <= 59)
  ); // Z
}

/** Why `text` is not an RFC 3339 date-time, or undefined when it is one. */
export function rfc3339Problem(text: string): string | undefined {
  if (isRfc3339(text)) return undefined;
  const match = rfc3339.exec(text);
  if (match === null) {
    return `expected an RFC 3339 date-time such as 2018-06-30T09:00:00+08:00, got ${JSON.stringify(text.slice(0, 40))}`;
  }
  const [, y, mo, d, h, mi, s, , zone, , oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12) return `month ${mo} out of range in ${text}`;
  if (day < 1 || day > daysInMonth(year, month)) return `day ${d} does not exist in ${y}-${mo}`;
  if (Number(h) > 23) return `hour ${h} out of range in ${text}`;
  if (Number(mi) > 59) return `minute ${mi} out of range in ${text}`;
  // Leap second 60 is valid RFC 3339 but JavaScript dates (and PostgreSQL) cannot hold it.
  if (Number(s) > 59) return `second ${s} out of range in ${text} (leap seconds are not representable)`;
  if (zone !== 'Z' && (Number(oh) > 23 || Number(om) > 59)) return `offset out of range in ${text}`;
  return undefined;
}

/** Business time (`occurredAt`): any RFC 3339 date-time; may lie in the past (补发, back-dated). */
export const rfc3339Schema = z.string().check((ctx) => {
  const problem = rfc3339Problem(ctx.value);
  if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

/**
 * Recording time (`recordedAt`): UTC with exactly three fraction digits, the
 * output of `toISOString()`. One instant has one spelling, so two writers
 * recording the same instant produce the same bytes.
 */
export const utcTimestampSchema = z.string().check((ctx) => {
  if (isUtcTimestamp(ctx.value)) return;
  const problem = rfc3339Problem(ctx.value);
  if (problem !== undefined) {
    ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
  } else if (!utcMillis.test(ctx.value)) {
    ctx.issues.push({
      code: 'custom',
      message: `recordedAt must be UTC with milliseconds (YYYY-MM-DDTHH:mm:ss.sssZ), got ${ctx.value}`,
      input: ctx.value,
    });
  }
});

/** True exactly when `utcTimestampSchema` accepts the string `text` (`recordedAt`'s one spelling). */
export function isUtcTimestamp(text: string): boolean {
  return utcMillis.test(text) && isRfc3339(text);
}

/** China's offset from UTC: 8 hours all year (no daylight saving time). */
export const beijingOffsetMs = 8 * 3_600_000;

/** The business date (YYYY-MM-DD) in China of an instant: every date the books record is one. */
export function beijingDate(epochMs: number): string {
  return new Date(epochMs + beijingOffsetMs).toISOString().slice(0, 10);
}

/** `recordedAt` for an instant in epoch milliseconds. */
export function utcTimestamp(epochMs: number): string {
  if (!Number.isSafeInteger(epochMs) || epochMs < 0) {
    throw new RangeError(`epoch milliseconds must be a non-negative safe integer, got ${epochMs}`);
  }
  const text = new Date(epochMs).toISOString();
  if (!utcMillis.test(text)) throw new RangeError(`epoch milliseconds ${epochMs} are beyond year 9999`);
  return text;
}
