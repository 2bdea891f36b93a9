import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fenMax, splitByWeights, splitEvenly, splitPartsMax, sumFen } from '../src/index';

describe('splitEvenly', () => {
  it.each<[bigint, number, bigint[]]>([
    [100n, 3, [34n, 33n, 33n]],
    [101n, 3, [34n, 34n, 33n]],
    [99n, 3, [33n, 33n, 33n]],
    [2n, 5, [1n, 1n, 0n, 0n, 0n]],
    [0n, 2, [0n, 0n]],
    [7n, 1, [7n]],
  ])('splitEvenly(%s, %s) = %s', (amount, n, parts) => {
    expect(splitEvenly(amount, n)).toEqual(parts);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, splitPartsMax + 1])('refuses %s parts', (n) => {
    expect(() => splitEvenly(100n, n)).toThrow(RangeError);
  });

  it('refuses a negative amount and a non-bigint amount', () => {
    expect(() => splitEvenly(-1n, 2)).toThrow(RangeError);
    expect(() => splitEvenly(1 as unknown as bigint, 2)).toThrow(TypeError);
  });

  it('conserves the amount and keeps every part within one fen of its exact share', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: fenMax }), fc.integer({ min: 1, max: 500 }), (amount, n) => {
        const parts = splitEvenly(amount, n);
        expect(parts).toHaveLength(n);
        expect(sumFen(parts)).toBe(amount);
        const count = BigInt(n);
        for (const [index, part] of parts.entries()) {
          // |part − amount/n| < 1  ⇔  |part·n − amount| < n
          const gap = part * count - amount;
          expect(gap < count && gap > -count).toBe(true);
          // The larger parts come first (lowest index gets the extra fen).
          if (index > 0) expect(part <= parts[index - 1]!).toBe(true);
        }
      }),
    );
  });
});

/**
 * Brute-force reference: among ALL vectors of non-negative integers adding up to
 * `amount`, the one closest to the exact shares amount·wᵢ/W in L1 distance
 * (compared exactly, scaled by W), ties to the lexicographically largest vector,
 * i.e. extra fen to the lowest index. Independent of the algorithm under test.
 */
function referenceSplit(amount: bigint, weights: bigint[]): bigint[] {
  const total = sumFen(weights);
  let best: bigint[] | undefined;
  let bestCost = 0n;
  const vector = new Array<bigint>(weights.length).fill(0n);
  const visit = (index: number, left: bigint): void => {
    if (index === weights.length - 1) {
      vector[index] = left;
      let cost = 0n;
      for (const [i, part] of vector.entries()) {
        const gap = part * total - amount * weights[i]!;
        cost += gap < 0n ? -gap : gap;
      }
      // Lexicographically descending enumeration: the first vector reaching a cost wins ties.
      if (best === undefined || cost < bestCost) {
        best = [...vector];
        bestCost = cost;
      }
      return;
    }
    for (let part = left; part >= 0n; part -= 1n) {
      vector[index] = part;
      visit(index + 1, left - part);
    }
  };
  visit(0, amount);
  return best!;
}

describe('splitByWeights', () => {
  it.each<[bigint, bigint[], bigint[]]>([
    [100n, [1n, 1n, 1n], [34n, 33n, 33n]],
    [100n, [1n, 2n], [33n, 67n]],
    [100n, [0n, 1n, 0n], [0n, 100n, 0n]],
    [10n, [3n, 3n, 3n, 1n], [3n, 3n, 3n, 1n]],
    [1n, [1n, 1n], [1n, 0n]],
    [7n, [2n, 5n], [2n, 5n]],
    [5_000_000_00n, [3n, 3n, 1n], [2_142_857_14n, 2_142_857_14n, 714_285_72n]],
    [0n, [1n, 2n], [0n, 0n]],
  ])('splitByWeights(%s, [%s]) = [%s]', (amount, weights, parts) => {
    expect(splitByWeights(amount, weights)).toEqual(parts);
  });

  it('refuses empty, all-zero, negative and non-bigint weights, and a negative amount', () => {
    expect(() => splitByWeights(100n, [])).toThrow(/non-empty/);
    expect(() => splitByWeights(100n, [0n, 0n])).toThrow(/all weights are zero/);
    expect(() => splitByWeights(100n, [1n, -1n, 5n])).toThrow(/weight 1 is negative/);
    expect(() => splitByWeights(100n, [1n, 2 as unknown as bigint])).toThrow(TypeError);
    expect(() => splitByWeights(-100n, [1n])).toThrow(RangeError);
  });

  it('matches the brute-force closest integer split on small cases', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 12n }),
        fc.array(fc.bigInt({ min: 0n, max: 6n }), { minLength: 1, maxLength: 4 }),
        (amount, weights) => {
          fc.pre(weights.some((weight) => weight > 0n));
          expect(splitByWeights(amount, weights)).toEqual(referenceSplit(amount, weights));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('conserves the amount; each part is its exact share rounded down or up; zero weights get 0', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: fenMax }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 200 }),
        (amount, weights) => {
          fc.pre(weights.some((weight) => weight > 0n));
          const parts = splitByWeights(amount, weights);
          const total = sumFen(weights);
          expect(sumFen(parts)).toBe(amount);
          for (const [i, part] of parts.entries()) {
            const floor = (amount * weights[i]!) / total;
            expect(part === floor || part === floor + 1n).toBe(true);
            if (weights[i] === 0n) expect(part).toBe(0n);
          }
        },
      ),
    );
  });

  it('gives equal weights the same result as splitEvenly', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: fenMax }),
        fc.integer({ min: 1, max: 100 }),
        fc.bigInt({ min: 1n, max: 1000n }),
        (amount, n, weight) => {
          expect(splitByWeights(amount, new Array<bigint>(n).fill(weight))).toEqual(splitEvenly(amount, n));
        },
      ),
    );
  });
});
