import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fenMax,
  formatWan,
  formatYuan,
  type ParseYuanOptions,
  parseYuan,
  type YuanRejectionCode,
  yuanTextLengthMax,
} from '../src/index';

const everything: ParseYuanOptions = { allowWan: true, allowNegative: true, allowZero: true };

describe('parseYuan accepts what finance staff type', () => {
  it.each<[string, bigint, ParseYuanOptions?]>([
    ['1234', 123400n],
    ['1234.5', 123450n],
    ['1234.56', 123456n],
    ['1,234.56', 123456n],
    ['1,234,567.89', 123456789n],
    ['0.01', 1n],
    ['0.1', 10n],
    ['  12.30  ', 1230n],
    ['1.2300', 123n],
    ['¥1,234.56', 123456n],
    ['￥1,234.56', 123456n],
    ['1234.56元', 123456n],
    ['1234.56 元', 123456n],
    ['１，２３４．５６', 123456n],
    ['１２３４．５６元', 123456n],
    ['\u30001234\u3000', 123400n],
    ['0', 0n, { allowZero: true }],
    ['0.00', 0n, { allowZero: true }],
    ['-0', 0n, everything],
    ['-1,234.56', -123456n, { allowNegative: true }],
    ['－１２．５', -1250n, { allowNegative: true }],
    ['\u22121.00', -100n, { allowNegative: true }],
    ['-¥12', -1200n, { allowNegative: true }],
    ['¥-12', -1200n, { allowNegative: true }],
    ['1.2万', 1_200_000n, { allowWan: true }],
    ['1.23456万', 1_234_560n, { allowWan: true }],
    ['1.234567万', 1_234_567n, { allowWan: true }],
    ['50万元', 50_000_000n, { allowWan: true }],
    ['1,234.5万元', 1_234_500_000n, { allowWan: true }],
    ['-0.000001万', -1n, everything],
    ['10,000,000,000,000', fenMax],
    ['10000000000000.00', fenMax],
    ['1000000000万', fenMax, { allowWan: true }],
  ])('%j → %s fen', (text, fen, options) => {
    expect(parseYuan(text, options)).toEqual({ ok: true, fen });
  });
});

describe('parseYuan refuses, with a code and a message', () => {
  it.each<[unknown, YuanRejectionCode, RegExp?, ParseYuanOptions?]>([
    ['', 'empty'],
    ['   ', 'empty'],
    ['\u3000', 'empty'],
    ['1'.repeat(yuanTextLengthMax + 1), 'too_long'],
    ['1'.repeat(10 * 1024 * 1024), 'too_long'],
    ['1.234', 'too_many_decimals', /more than two decimal places: 1\.234/],
    ['1.2340', 'too_many_decimals'],
    ['0.001', 'too_many_decimals', undefined, everything],
    ['1.2345678万', 'too_many_decimals', /six decimal places of 万/, everything],
    ['-1', 'negative_not_allowed', /negative/],
    ['-0', 'negative_not_allowed'],
    ['+1', 'plus_sign_not_allowed', undefined, everything],
    ['0', 'zero_not_allowed'],
    ['0.00', 'zero_not_allowed'],
    ['-0.00', 'zero_not_allowed', undefined, { allowNegative: true }],
    ['1,23', 'misplaced_separator', /1,23/],
    ['12,34.5', 'misplaced_separator'],
    ['1234,567', 'misplaced_separator'],
    [',123', 'misplaced_separator'],
    ['1,,234', 'misplaced_separator'],
    ['1,2345', 'misplaced_separator'],
    ['1,234.5,6', 'misplaced_separator'],
    ['1.234,56', 'misplaced_separator'],
    ['1e5', 'scientific_notation'],
    ['1.2E+3', 'scientific_notation'],
    ['1.5e-2', 'scientific_notation', undefined, everything],
    ['NaN', 'not_a_number'],
    ['Infinity', 'not_a_number'],
    ['-Infinity', 'not_a_number', undefined, everything],
    ['inf', 'not_a_number'],
    ['abc', 'not_a_number'],
    ['12abc', 'not_a_number'],
    ['1 234', 'not_a_number'],
    ['1.2.3', 'not_a_number'],
    ['.5', 'not_a_number'],
    ['5.', 'not_a_number'],
    ['.', 'not_a_number'],
    ['-', 'not_a_number', undefined, everything],
    ['元', 'not_a_number'],
    ['¥', 'not_a_number'],
    ['¥¥1', 'not_a_number'],
    ['--1', 'not_a_number', undefined, everything],
    ['0x10', 'not_a_number'],
    ['1²', 'not_a_number'],
    ['①', 'not_a_number'],
    ['一百', 'not_a_number'],
    ['(12.00)', 'not_a_number'],
    ['0012', 'leading_zeros'],
    ['00.5', 'leading_zeros'],
    ['1.2万', 'wan_not_allowed'],
    ['3万元', 'wan_not_allowed'],
    ['10,000,000,000,000.01', 'too_large'],
    ['99999999999999999999', 'too_large'],
    ['1000000000.000001万', 'too_large', undefined, everything],
    [12 as unknown as string, 'not_a_number'],
  ])('%j → %s', (text, code, message, options) => {
    const result = parseYuan(text as string, options);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe(code);
    expect(result.message.length).toBeGreaterThan(0);
    expect(result.message.length).toBeLessThan(200);
    if (message) expect(result.message).toMatch(message);
  });
});

const amount = fc.bigInt({ min: -fenMax, max: fenMax });

/** The same text as typed with a Chinese IME: full-width digits and punctuation. */
function fullWidth(text: string): string {
  return text.replace(/[0-9,.-]/g, (char) => String.fromCodePoint(char.codePointAt(0)! + 0xfee0));
}

describe('parseYuan ∘ formatYuan', () => {
  it('parses every formatted amount back to itself, in every format', () => {
    fc.assert(
      fc.property(amount, fc.boolean(), fc.boolean(), fc.boolean(), (fen, grouping, unit, wide) => {
        const text = formatYuan(fen, { grouping, unit });
        expect(parseYuan(wide ? fullWidth(text) : text, everything)).toEqual({ ok: true, fen });
      }),
    );
  });

  it('parses exact 万元 (six decimals) back to the same fen', () => {
    fc.assert(
      fc.property(amount, (fen) => {
        expect(parseYuan(formatWan(fen, { decimals: 6 }), everything)).toEqual({ ok: true, fen });
      }),
    );
  });

  it('agrees with digit-string arithmetic for any digits with up to two decimals', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: fenMax / 100n }),
        fc.stringMatching(/^[0-9]{0,2}$/),
        (whole, cents) => {
          const text = cents === '' ? whole.toString() : `${whole}.${cents}`;
          const expected = whole * 100n + BigInt(cents.padEnd(2, '0'));
          const result = parseYuan(text, { allowZero: true });
          if (expected > fenMax) expect(result).toMatchObject({ ok: false, code: 'too_large' });
          else expect(result).toEqual({ ok: true, fen: expected });
        },
      ),
    );
  });

  it('never throws and only ever returns an amount within ±fenMax or a rejection', () => {
    const alphabet = fc.constantFrom(...'0123456789,.-+eE万元¥ １，．'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 24 })), (text) => {
        const result = parseYuan(text, everything);
        if (result.ok) {
          expect(typeof result.fen).toBe('bigint');
          expect(result.fen <= fenMax && result.fen >= -fenMax).toBe(true);
        } else {
          expect(result.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses any third decimal that is not zero', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.stringMatching(/^[0-9]{2}[1-9]$/),
        (whole, decimals) => {
          expect(parseYuan(`${whole}.${decimals}`, everything)).toMatchObject({
            ok: false,
            code: 'too_many_decimals',
          });
        },
      ),
    );
  });
});
