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
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why `text` is not an RFC 3339 date-time, or undefined when it is one. */
export function rfc3339Problem(text: string): string | undefined {
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
