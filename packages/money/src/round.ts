import type { Fen } from './fen';

/**
 * Rounds `amount` to the nearest multiple of `unit` (e.g. `fenPerWan / 100n` to
 * show 万元 with two decimals), halves away from zero: 四舍五入, as finance
 * bureaus and budget tables round when they print 万元. We deliberately do not use
 * GB/T 8170's round-half-even: a reader checking a notice board with a calculator
 * rounds half up, and a negative amount must display as the mirror of its positive.
 *
 * This is the only place fundtrace rounds money. It is for display only: the books
 * never hold a rounded amount, and rounded parts need not add up to the rounded total.
 */
export function roundHalfUpToUnit(amount: Fen, unit: Fen): Fen {
  if (typeof amount !== 'bigint' || typeof unit !== 'bigint') {
    throw new TypeError('roundHalfUpToUnit: amount and unit must be bigint');
  }
  if (unit <= 0n) throw new RangeError(`roundHalfUpToUnit: unit must be positive, got ${unit}`);
  const magnitude = amount < 0n ? -amount : amount;
  const remainder = magnitude % unit;
  const down = magnitude - remainder;
  // remainder * 2 >= unit is "at least half a unit", exact for odd units too.
  const rounded = remainder * 2n >= unit ? down + unit : down;
  return amount < 0n ? -rounded : rounded;
}
