import { ledger } from '@fundtrace/events';
import { fenMax } from '@fundtrace/money';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paymentQuantityMax } from '../src/ledger/limits';
import { fastRosterRow, rosterRowSchema } from '../src/ledger/roster-rows';
import { parseRoster } from '../src/routes/commands';

/**
 * The roster row fast path (no zod) against the row schema: whatever it accepts, the schema
 * accepts with the same output; whatever the schema refuses, it leaves to the schema.
 */

const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.string(),
  fc.array(fc.nat(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);

const around = (n: number) => fc.constantFrom(n - 1, n, n + 1);
const rowNumber = fc.oneof(
  fc.integer({ min: -2, max: 70_000 }),
  around(Number.MAX_SAFE_INTEGER),
  fc.double(),
  junk,
);
const householdId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  fc.string({ minLength: 0, maxLength: 70 }),
  fc.constantFrom('', 'H 1', 'H.1', 'Ｈ1', 'a'.repeat(64), 'a'.repeat(65), 'H1\n'),
  junk,
);
const quantity = fc.oneof(
  fc.integer({ min: -1, max: 5 }),
  around(paymentQuantityMax),
  fc.constantFrom(1.5, -0, Number.NaN, Number.POSITIVE_INFINITY),
  junk,
);
const amountFen = fc.oneof(
  fc.bigInt({ min: 0n, max: fenMax + 2n }).map(String),
  fc.constantFrom(
    '0',
    '1',
    '01',
    '-1',
    '+1',
    '1.0',
    ' 1',
    '1e3',
    '',
    String(fenMax),
    String(fenMax + 1n),
    `0${fenMax}`,
  ),
  fc.stringMatching(/^[0-9]{1,18}$/),
  junk,
);
const acceptanceRef = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ minLength: 0, maxLength: 102 }),
  fc.constantFrom('验收〔2024〕1号', 'a'.repeat(100), 'a'.repeat(101), '😀'.repeat(50), '😀'.repeat(51)),
  junk,
);

const rowArb = fc.oneof(
  fc.record(
    { row: rowNumber, householdId, quantity, amountFen, acceptanceRef, extra: junk },
    { requiredKeys: [] },
  ),
  junk,
);

describe('fastRosterRow', () => {
  it('property: accepts only what the schema accepts, with the same output', () => {
    fc.assert(
      fc.property(rowArb, (value) => {
        const fast = fastRosterRow(value);
        const slow = rosterRowSchema.safeParse(value);
        if (fast !== undefined) {
          expect(slow.success).toBe(true);
          expect(fast).toEqual(slow.data);
          // Same keys in the same order: the canonical hash sorts them anyway, the test pins it.
          expect(Object.keys(fast)).toEqual(Object.keys(slow.data!));
        }
        if (!slow.success) expect(fast).toBeUndefined();
      }),
      { numRuns: 5_000 },
    );
  });

  it('takes the fast path for the rows rosters are made of', () => {
    const typical = [
      { row: 2, householdId: 'H0001', quantity: 2, amountFen: '38000' },
      { row: 3, householdId: '411325100201-0007', quantity: 1, amountFen: '19000', acceptanceRef: null },
      { row: 4, householdId: 'H_9', quantity: 3, amountFen: '1', acceptanceRef: '内验〔2024〕3号' },
    ];
    for (const value of typical) {
      expect(fastRosterRow(value)).toEqual(rosterRowSchema.parse(value));
    }
    expect(ledger.ledgerIdLengthMax).toBe(64);
  });

  it('parseRoster gives the same command as the schema over the whole body, and the same row errors', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 30 }), (rows) => {
        const body = {
          commandId: 'c1',
          rosterId: 'RS',
          programmeCode: 'dibao_class1',
          period: '2024-06',
          accountId: 'POOL',
          rows,
        };
        const parsed = parseRoster(body);
        const whole = rosterRowSchema.array().safeParse(rows);
        expect(parsed.ok).toBe(whole.success);
        if (parsed.ok && whole.success) expect(parsed.data.rows).toEqual(whole.data);
        if (!parsed.ok) {
          const bad = rows.flatMap((row, index) => (rosterRowSchema.safeParse(row).success ? [] : [index]));
          expect(parsed.problems.map((p) => p.index)).toEqual(bad);
        }
      }),
      { numRuns: 400 },
    );
  });
});
