import { fenMax, formatYuan, parseYuan } from '@fundtrace/money';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnLetter, dateToText, isDateFormat, numberToText } from '../src/index';

describe('numberToText', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-1, '-1'],
    [1234.56, '1234.56'],
    [0.1 + 0.2, '0.3'],
    [1 / 3, '0.333333333333333'],
    [123456789012345.67, '123456789012346'],
    [1e-7, '0.0000001'],
    [-1.5e-10, '-0.00000000015'],
    [1e21, '1000000000000000000000'],
    [2 ** 53, '9007199254740990'],
    [100000, '100000'],
    [0.5, '0.5'],
  ])('%s → %s', (value, text) => {
    expect(numberToText(value)).toBe(text);
  });

  it('refuses NaN and infinities', () => {
    expect(() => numberToText(Number.NaN)).toThrow(RangeError);
    expect(() => numberToText(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('never writes exponents and always yields a number equal to the value at 15 significant digits', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = numberToText(value);
        expect(text).toMatch(/^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$/);
        expect(Number(text)).toBe(Number(value.toPrecision(15)));
      }),
      { numRuns: 5000 },
    );
  });

  it('gives back every amount up to fenMax from the double a spreadsheet stores for it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -fenMax, max: fenMax }), (fen) => {
        const stored = Number(formatYuan(fen, { grouping: false }));
        expect(parseYuan(numberToText(stored), { allowNegative: true, allowZero: true })).toEqual({
          ok: true,
          fen,
        });
      }),
      { numRuns: 5000 },
    );
  });
});

describe('isDateFormat', () => {
  it.each([
    ['yyyy-mm-dd', true],
    ['mm-dd-yy', true],
    ['yyyy"年"m"月"d"日"', true],
    ['[$-804]yyyy/m/d', true],
    ['h:mm:ss', true],
    ['yyyy-mm-dd hh:mm', true],
    ['General', false],
    ['0.00', false],
    ['#,##0.00', false],
    ['#,##0.00"元"', false],
    ['[Red]0.00', false],
    ['0.00_);[Red]\\(0.00\\)', false],
    ['@', false],
    [undefined, false],
    ['', false],
  ])('%j → %s', (format, isDate) => {
    expect(isDateFormat(format)).toBe(isDate);
  });
});

describe('dateToText', () => {
  it.each([
    [new Date(Date.UTC(2019, 4, 3)), '2019-05-03'],
    [new Date(Date.UTC(2019, 4, 3, 8, 30)), '2019-05-03T08:30:00'],
    [new Date(Date.UTC(2019, 4, 3) + 0.4), '2019-05-03'],
    [new Date(Date.UTC(2019, 4, 3, 23, 59, 59, 600)), '2019-05-04'],
    [new Date(Number.NaN), undefined],
    [new Date(Date.UTC(99999, 0, 1)), undefined],
  ])('%s → %s', (date, text) => {
    expect(dateToText(date)).toBe(text);
  });
});

describe('columnLetter', () => {
  it.each([
    [0, 'A'],
    [25, 'Z'],
    [26, 'AA'],
    [51, 'AZ'],
    [52, 'BA'],
    [701, 'ZZ'],
    [702, 'AAA'],
    [16383, 'XFD'],
  ])('%s → %s', (index, letter) => {
    expect(columnLetter(index)).toBe(letter);
  });
});
