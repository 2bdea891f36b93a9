import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fenMax, fenSchema, positiveFenSchema, signedFenSchema } from '../src/index';

function messages(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => issue.message);
}

describe('fenSchema (wire string ⇄ bigint fen)', () => {
  it('decodes canonical digit strings to bigint and encodes back to the same string', () => {
    expect(fenSchema.parse('0')).toBe(0n);
    expect(fenSchema.parse('125000')).toBe(125000n);
    expect(fenSchema.parse(fenMax.toString())).toBe(fenMax);
    expect(z.encode(fenSchema, 125000n)).toBe('125000');
    expect(z.encode(fenSchema, 0n)).toBe('0');
  });

  it.each([
    ['', /empty/],
    ['-1', /must not be negative/],
    ['+1', /"\+" sign/],
    ['1.5', /no decimal point/],
    ['1e5', /only the digits/],
    [' 12', /only the digits/],
    ['12 ', /only the digits/],
    ['1,000', /only the digits/],
    ['０', /only the digits/],
    ['NaN', /only the digits/],
    ['01', /leading zeros/],
    ['00', /leading zeros/],
    [(fenMax + 1n).toString(), /above the maximum/],
    ['9'.repeat(20), /above the maximum/],
    ['9'.repeat(100_000), /above the maximum/],
  ])('rejects the wire string %j with a message saying why', (text, reason) => {
    const found = messages(fenSchema, text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(reason);
  });

  it('keeps messages short when the input is huge', () => {
    const [message] = messages(fenSchema, '9'.repeat(100_000));
    expect(message!.length).toBeLessThan(200);
  });

  it.each([
    [12, /the number 12 .*never a float/],
    [12.5, /the number 12.5/],
    [12n, /string of digits, got bigint/],
    [null, /got null/],
    [undefined, /got undefined/],
    [{}, /got object/],
  ])('refuses the non-string %s on the wire', (value, reason) => {
    expect(messages(fenSchema, value)[0]).toMatch(reason);
  });

  it('refuses to encode amounts outside its range', () => {
    expect(() => z.encode(fenSchema, -1n)).toThrow(/below the minimum 0/);
    expect(() => z.encode(fenSchema, fenMax + 1n)).toThrow(/above the maximum/);
    expect(() => z.encode(fenSchema, 5 as unknown as bigint)).toThrow(/bigint/);
  });

  it('round-trips every amount in range: decode(encode(x)) = x and encode(decode(s)) = s', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: fenMax }), (amount) => {
        const wire = z.encode(fenSchema, amount);
        expect(wire).toMatch(/^(0|[1-9][0-9]*)$/);
        expect(z.decode(fenSchema, wire)).toBe(amount);
        expect(z.encode(fenSchema, z.decode(fenSchema, wire))).toBe(wire);
      }),
    );
  });

  it('accepts exactly the strings that match its published pattern', () => {
    const schema = z.toJSONSchema(fenSchema, { io: 'input' }) as { pattern: string; type: string };
    expect(schema.type).toBe('string');
    const pattern = new RegExp(schema.pattern);
    fc.assert(
      fc.property(
        fc.oneof(fc.stringMatching(/^-?[0-9]{0,18}$/), fc.bigInt({ min: 0n, max: fenMax }).map(String)),
        (text) => {
          const inRange = pattern.test(text) && BigInt(text) <= fenMax;
          expect(fenSchema.safeParse(text).success).toBe(inRange);
        },
      ),
    );
  });

  it('works inside objects: parse gives bigint, encode gives the wire string', () => {
    const command = z.object({ amountFen: fenSchema });
    expect(command.parse({ amountFen: '12' })).toEqual({ amountFen: 12n });
    expect(z.encode(command, { amountFen: 12n })).toEqual({ amountFen: '12' });
    const failure = command.safeParse({ amountFen: '1.2' });
    expect(failure.success).toBe(false);
    expect(failure.error?.issues[0]?.path).toEqual(['amountFen']);
  });
});

describe('positiveFenSchema', () => {
  it('accepts 1 fen up to fenMax and refuses zero', () => {
    expect(positiveFenSchema.parse('1')).toBe(1n);
    expect(positiveFenSchema.parse(fenMax.toString())).toBe(fenMax);
    expect(messages(positiveFenSchema, '0')[0]).toMatch(/greater than zero/);
    expect(() => z.encode(positiveFenSchema, 0n)).toThrow(/greater than zero/);
    expect(messages(positiveFenSchema, '-1')[0]).toMatch(/negative/);
  });
});

describe('signedFenSchema', () => {
  it('accepts a leading minus, refuses "-0", "+1" and anything beyond ±fenMax', () => {
    expect(signedFenSchema.parse('-125000')).toBe(-125000n);
    expect(signedFenSchema.parse('0')).toBe(0n);
    expect(signedFenSchema.parse(`-${fenMax}`)).toBe(-fenMax);
    expect(messages(signedFenSchema, '-0')[0]).toMatch(/not canonical/);
    expect(messages(signedFenSchema, '-01')[0]).toMatch(/leading zeros/);
    expect(messages(signedFenSchema, '+1')[0]).toMatch(/"\+" sign/);
    expect(messages(signedFenSchema, '--1')[0]).toMatch(/only the digits/);
    expect(messages(signedFenSchema, '-')[0]).toMatch(/only the digits/);
    expect(messages(signedFenSchema, `-${fenMax + 1n}`)[0]).toMatch(/above the maximum/);
    expect(() => z.encode(signedFenSchema, -fenMax - 1n)).toThrow(/below the minimum/);
  });

  it('round-trips every signed amount in range', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -fenMax, max: fenMax }), (amount) => {
        const wire = z.encode(signedFenSchema, amount);
        expect(wire).toMatch(/^(0|-?[1-9][0-9]*)$/);
        expect(z.decode(signedFenSchema, wire)).toBe(amount);
      }),
    );
  });
});
