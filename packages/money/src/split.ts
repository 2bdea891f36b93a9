import type { Fen } from './fen';

/**
 * The most parts one split may produce. The largest split we make is one
 * programme's payment list for a county or a city (tens of thousands of
 * households); a few million leaves a wide margin while refusing a length that
 * would exhaust memory because of a bad input.
 */
export const splitPartsMax = 5_000_000;

/**
 * Splits `amount` into `n` parts that differ by at most one fen and add up to
 * `amount` exactly. The fen that do not divide evenly go to the lowest indices
 * first, so the result is deterministic: splitEvenly(100n, 3) → [34n, 33n, 33n].
 *
 * Throws on n ≤ 0, n > splitPartsMax, a non-integer n or a negative amount:
 * the caller validates its input first (a split of a reversal splits the
 * positive amount and negates the parts).
 */
export function splitEvenly(amount: Fen, n: number): Fen[] {
  assertAmount(amount, 'splitEvenly');
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new RangeError(`splitEvenly: the number of parts must be a positive integer, got ${n}`);
  }
  if (n > splitPartsMax) throw new RangeError(`splitEvenly: ${n} parts is more than ${splitPartsMax}`);
  const count = BigInt(n);
  const base = amount / count;
  const extra = Number(amount % count);
  const parts = new Array<Fen>(n);
  for (let i = 0; i < n; i += 1) parts[i] = i < extra ? base + 1n : base;
  return parts;
}

/**
 * Splits `amount` in proportion to `weights` by the largest-remainder (Hamilton)
 * method: each part is the floor of its exact share amount·wᵢ/Σw, and the fen
 * left over go one each to the largest remainders, ties to the lowest index. So
 * every part is its exact share rounded down or up, Σ parts = amount exactly,
 * a zero weight gets 0, and the result minimises Σ|partᵢ − shareᵢ|.
 *
 * Used where a rule divides money by village counts, household sizes or areas
 * (e.g. 渑池's fixed amounts per village): weights are bigint so that areas in
 * square metres ×100 or headcounts are exact.
 *
 * Throws on empty or too many weights, a negative weight, all-zero weights or a
 * negative amount.
 */
export function splitByWeights(amount: Fen, weights: readonly bigint[]): Fen[] {
  assertAmount(amount, 'splitByWeights');
  if (!Array.isArray(weights) || weights.length === 0) {
    throw new RangeError('splitByWeights: weights must be a non-empty array');
  }
  if (weights.length > splitPartsMax) {
    throw new RangeError(`splitByWeights: ${weights.length} weights is more than ${splitPartsMax}`);
  }
  let total = 0n;
  for (const [index, weight] of weights.entries()) {
    if (typeof weight !== 'bigint') throw new TypeError(`splitByWeights: weight ${index} is not a bigint`);
    if (weight < 0n) throw new RangeError(`splitByWeights: weight ${index} is negative (${weight})`);
    total += weight;
  }
  if (total === 0n)
    throw new RangeError('splitByWeights: all weights are zero, there is nothing to split by');

  const parts = new Array<Fen>(weights.length);
  const remainders = new Array<bigint>(weights.length);
  let assigned = 0n;
  for (let i = 0; i < weights.length; i += 1) {
    const numerator = amount * weights[i]!;
    parts[i] = numerator / total;
    remainders[i] = numerator % total;
    assigned += parts[i]!;
  }
  // Σ remainders = leftover·total and each remainder < total, so fewer than
  // weights.length fen are left and each goes to a distinct positive remainder.
  const leftover = Number(amount - assigned);
  if (leftover > 0) {
    const order = Array.from(weights.keys())
      .filter((i) => remainders[i]! > 0n)
      .sort((a, b) => {
        const ra = remainders[a]!;
        const rb = remainders[b]!;
        return ra > rb ? -1 : ra < rb ? 1 : a - b;
      });
    if (order.length < leftover) {
      throw new Error(
        `splitByWeights: invariant broken, ${leftover} fen left but ${order.length} remainders`,
      );
    }
    for (let k = 0; k < leftover; k += 1) {
      const index = order[k]!;
      parts[index] = parts[index]! + 1n;
    }
  }
  return parts;
}

function assertAmount(amount: Fen, where: string): void {
  if (typeof amount !== 'bigint') throw new TypeError(`${where}: amount must be a bigint number of fen`);
  if (amount < 0n) throw new RangeError(`${where}: amount must not be negative, got ${amount}`);
}
