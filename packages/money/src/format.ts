import { type Fen, fenPerWan, fenPerYuan } from './fen';
import { roundHalfUpToUnit } from './round';

export interface FormatYuanOptions {
  /** Thousands separators, "1,234.56" (default true). */
  readonly grouping?: boolean;
  /** Append "元" (default false). */
  readonly unit?: boolean;
}

/**
 * Formats fen as 元 with exactly two decimals: 123456n → "1,234.56". The output
 * is always accepted by `parseYuan` (with allowNegative/allowZero as needed) and
 * parses back to the same amount.
 */
export function formatYuan(fen: Fen, options: FormatYuanOptions = {}): string {
  assertBigint(fen, 'formatYuan');
  const { grouping = true, unit = false } = options;
  const negative = fen < 0n;
  const magnitude = negative ? -fen : fen;
  const whole = (magnitude / fenPerYuan).toString();
  const cents = (magnitude % fenPerYuan).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${grouping ? group(whole) : whole}.${cents}${unit ? '元' : ''}`;
}

/** 万元 display never needs more than 6 decimals: 0.000001 万元 is one fen. */
export const wanDecimalsMax = 6;

export interface FormatWanOptions {
  /** Decimals of 万元 shown, 0..6 (default 2, i.e. to the nearest 100 元, as budget tables do). */
  readonly decimals?: number;
  /** Thousands separators on the 万 part (default true). */
  readonly grouping?: boolean;
  /** Append "万元" (default true: a bare number in 万 would be read as 元). */
  readonly unit?: boolean;
}

/**
 * Formats fen as 万元 for notice boards and summaries: 123456789n (1,234,567.89 元)
 * → "123.46万元". Rounds with `roundHalfUpToUnit`; with `decimals: 6` it is exact.
 */
export function formatWan(fen: Fen, options: FormatWanOptions = {}): string {
  assertBigint(fen, 'formatWan');
  const { decimals = 2, grouping = true, unit = true } = options;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > wanDecimalsMax) {
    throw new RangeError(`formatWan: decimals must be an integer 0..${wanDecimalsMax}, got ${decimals}`);
  }
  const step = fenPerWan / 10n ** BigInt(decimals);
  const rounded = roundHalfUpToUnit(fen, step);
  const negative = rounded < 0n;
  const units = (negative ? -rounded : rounded) / step;
  const scale = 10n ** BigInt(decimals);
  const whole = (units / scale).toString();
  const fraction = decimals === 0 ? '' : `.${(units % scale).toString().padStart(decimals, '0')}`;
  return `${negative ? '-' : ''}${grouping ? group(whole) : whole}${fraction}${unit ? '万元' : ''}`;
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+$)/g, ',');
}

function assertBigint(value: unknown, where: string): asserts value is bigint {
  if (typeof value !== 'bigint') throw new TypeError(`${where}: amount must be a bigint number of fen`);
}
