/**
 * An amount of money as an integer number of fen (分, 1/100 元). Never a float:
 * a double cannot hold 0.1 元 exactly, and one lost fen in ten thousand payments
 * is a discrepancy an auditor has to explain.
 */
export type Fen = bigint;

/** 1 元 = 100 分. */
export const fenPerYuan = 100n;

/** 1 万元 = 10,000 元 = 1,000,000 分; plans and notice boards count in 万元. */
export const fenPerWan = 1_000_000n;

/**
 * The largest amount we accept anywhere: 10^15 fen = 10 万亿 (10 trillion) 元.
 * That is above any budget this system will ever book (the whole national
 * general public budget is about 25 万亿 元 a year, special poverty-alleviation
 * funds are in the hundreds of 亿), so anything larger is a typo or an attack.
 * It is far below 2^63 (PostgreSQL bigint), so sums of many maximal amounts
 * still fit in SQL, and below 2^53, so even a tool that reads the digits as a
 * double (a browser, a spreadsheet) gets every amount exactly.
 */
export const fenMax: Fen = 10n ** 15n;

/** Digits of `fenMax`; a wire string longer than this is rejected before BigInt() runs. */
export const fenDigitsMax = fenMax.toString().length;

/** True when `value` is a bigint within [-fenMax, fenMax]. */
export function isFen(value: unknown): value is Fen {
  return typeof value === 'bigint' && value >= -fenMax && value <= fenMax;
}

/**
 * Asserts that `value` is an amount we can hold. For values computed by our own
 * code (sums, splits): failing here means a bug, so it throws.
 */
export function assertFen(value: unknown, what = 'amount'): asserts value is Fen {
  if (typeof value !== 'bigint') {
    throw new TypeError(`${what} must be a bigint number of fen, got ${typeof value}`);
  }
  if (value > fenMax || value < -fenMax) {
    throw new RangeError(`${what} ${value} fen is outside ±fenMax (${fenMax} fen)`);
  }
}

/** -1, 0 or 1, for Array.prototype.sort and for readable comparisons. */
export function compareFen(a: Fen, b: Fen): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Exact sum. Throws on a non-bigint element (a number sneaking in from JSON
 * would otherwise be a TypeError deep inside `+` or, worse, a string concat).
 */
export function sumFen(amounts: Iterable<Fen>): Fen {
  let total = 0n;
  for (const amount of amounts) {
    if (typeof amount !== 'bigint') {
      throw new TypeError(`sumFen: every amount must be a bigint number of fen, got ${typeof amount}`);
    }
    total += amount;
  }
  return total;
}

export function minFen(first: Fen, ...rest: Fen[]): Fen {
  let min = first;
  for (const amount of rest) if (amount < min) min = amount;
  return min;
}

export function maxFen(first: Fen, ...rest: Fen[]): Fen {
  let max = first;
  for (const amount of rest) if (amount > max) max = amount;
  return max;
}

export function absFen(amount: Fen): Fen {
  return amount < 0n ? -amount : amount;
}
