import { describe, expect, it } from 'vitest';
import { absFen, assertFen, compareFen, fenMax, isFen, maxFen, minFen, sumFen } from '../src/index';

describe('fen helpers', () => {
  it('fenMax stays exact in a double and far inside PostgreSQL bigint', () => {
    expect(fenMax <= BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(fenMax * 1000n < 2n ** 63n - 1n).toBe(true);
  });

  it('sums exactly and refuses numbers mixed in', () => {
    expect(sumFen([])).toBe(0n);
    expect(sumFen([1n, 2n, -3n, fenMax])).toBe(fenMax);
    expect(sumFen(new Set([10n, 20n]))).toBe(30n);
    expect(() => sumFen([1n, 2 as unknown as bigint])).toThrow(TypeError);
  });

  it('compares, takes min, max and abs', () => {
    expect([3n, -1n, 2n].sort(compareFen)).toEqual([-1n, 2n, 3n]);
    expect(compareFen(5n, 5n)).toBe(0);
    expect(minFen(3n, -1n, 2n)).toBe(-1n);
    expect(maxFen(3n, -1n, 2n)).toBe(3n);
    expect(minFen(7n)).toBe(7n);
    expect(absFen(-5n)).toBe(5n);
    expect(absFen(5n)).toBe(5n);
  });

  it('knows what an acceptable amount is', () => {
    expect(isFen(0n)).toBe(true);
    expect(isFen(-fenMax)).toBe(true);
    expect(isFen(fenMax + 1n)).toBe(false);
    expect(isFen(12)).toBe(false);
    expect(isFen('12')).toBe(false);
    expect(() => assertFen(fenMax + 1n, 'payment')).toThrow(/payment .* outside/);
    expect(() => assertFen(1.5)).toThrow(TypeError);
    expect(() => assertFen(-fenMax)).not.toThrow();
  });
});
