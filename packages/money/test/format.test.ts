import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fenMax, fenPerWan, formatWan, formatYuan, roundHalfUpToUnit } from '../src/index';

describe('formatYuan', () => {
  it.each<[bigint, Parameters<typeof formatYuan>[1], string]>([
    [0n, {}, '0.00'],
    [1n, {}, '0.01'],
    [10n, {}, '0.10'],
    [100n, {}, '1.00'],
    [123456n, {}, '1,234.56'],
    [100000n, {}, '1,000.00'],
    [99999n, {}, '999.99'],
    [123456789n, { grouping: false }, '1234567.89'],
    [123456n, { unit: true }, '1,234.56元'],
    [-123456n, {}, '-1,234.56'],
    [-1n, {}, '-0.01'],
    [fenMax, {}, '10,000,000,000,000.00'],
  ])('%s fen with %j → %s', (fen, options, text) => {
    expect(formatYuan(fen, options)).toBe(text);
  });

  it('refuses a number: money is never a float', () => {
    expect(() => formatYuan(12 as unknown as bigint)).toThrow(TypeError);
  });

  it('always prints exactly two decimals and groups by three', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -fenMax, max: fenMax }), (fen) => {
        expect(formatYuan(fen)).toMatch(/^-?[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}$/);
      }),
    );
  });
});

describe('roundHalfUpToUnit (四舍五入, the one rounding rule)', () => {
  it.each([
    [49n, 100n, 0n],
    [50n, 100n, 100n],
    [149n, 100n, 100n],
    [150n, 100n, 200n],
    [-49n, 100n, 0n],
    [-50n, 100n, -100n],
    [-150n, 100n, -200n],
    [200n, 100n, 200n],
    [0n, 100n, 0n],
    [1n, 3n, 0n],
    [2n, 3n, 3n],
    [7n, 1n, 7n],
  ])('roundHalfUpToUnit(%s, %s) = %s', (amount, unit, expected) => {
    expect(roundHalfUpToUnit(amount, unit)).toBe(expected);
  });

  it('refuses a unit that is not positive', () => {
    expect(() => roundHalfUpToUnit(5n, 0n)).toThrow(RangeError);
    expect(() => roundHalfUpToUnit(5n, -10n)).toThrow(RangeError);
  });

  it('gives the nearest multiple, halves away from zero, symmetric around zero', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -fenMax, max: fenMax }),
        fc.bigInt({ min: 1n, max: 10n ** 8n }),
        (amount, unit) => {
          const rounded = roundHalfUpToUnit(amount, unit);
          expect(rounded % unit).toBe(0n);
          const distance = rounded > amount ? rounded - amount : amount - rounded;
          expect(distance * 2n <= unit).toBe(true);
          if (distance * 2n === unit) expect(rounded > 0n ? rounded > amount : rounded < amount).toBe(true);
          expect(roundHalfUpToUnit(-amount, unit)).toBe(-rounded);
        },
      ),
    );
  });
});

describe('formatWan', () => {
  it.each<[bigint, Parameters<typeof formatWan>[1], string]>([
    [123456789n, {}, '123.46万元'],
    [50n * fenPerWan, {}, '50.00万元'],
    [50n * fenPerWan, { decimals: 0 }, '50万元'],
    [4_999n, {}, '0.00万元'],
    [5_000n, {}, '0.01万元'],
    [-5_000n, {}, '-0.01万元'],
    [-4_999n, {}, '0.00万元'],
    [1_234_567n, { decimals: 6 }, '1.234567万元'],
    [12_345_678_900_000n, { unit: false }, '12,345,678.90'],
    [12_345_678_900_000n, { grouping: false }, '12345678.90万元'],
    [99_995_000n, {}, '100.00万元'],
    [fenMax, { decimals: 0 }, '1,000,000,000万元'],
  ])('%s fen with %j → %s', (fen, options, text) => {
    expect(formatWan(fen, options)).toBe(text);
  });

  it.each([-1, 7, 1.5, Number.NaN])('refuses %s decimals', (decimals) => {
    expect(() => formatWan(1n, { decimals })).toThrow(RangeError);
  });
});
