import { fenMax } from '@fundtrace/money';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  audit,
  type BatchEvent,
  buildCatalog,
  canonicalEncoder,
  canonicalJson,
  defineEvent,
  type EventHead,
  EventTooLargeError,
  encodeEvent,
  eventBatchEncoder,
  eventBytesMax,
  eventCodec,
  eventsPerCommandMax,
  ledger,
  messageId,
  subjectFor,
} from '../src';
import { envelopeArb, findingRaisedArb, findingRectifiedArb, findingReviewedArb } from './fixtures';

/**
 * The fast path's contract: for every event, exactly what `encodeEvent` does —
 * the same bytes (so leaf hashes do not change), or the same error.
 */

type Outcome = { bytes: string } | { error: string; name: string };

function outcome(run: () => Uint8Array): Outcome {
  try {
    return { bytes: Buffer.from(run()).toString('hex') };
  } catch (error) {
    return { error: (error as Error).message, name: (error as Error).name };
  }
}

function both(head: EventHead, event: BatchEvent) {
  return {
    fast: outcome(() => eventBatchEncoder(head).encode(event)),
    full: outcome(() => encodeEvent({ ...head, ...event } as never)),
  };
}

const token = (max: number) =>
  fc.stringMatching(/^[A-Za-z0-9_-]+$/).filter((s) => s.length >= 1 && s.length <= max);
const code = fc.stringMatching(/^[a-z][a-z0-9_]{0,39}$/);
const period = fc.stringMatching(/^[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$/);
const positiveFen = fc.oneof(
  fc.bigInt({ min: 1n, max: fenMax }),
  fc.constantFrom(1n, fenMax, 38_000n, 18_000n),
);
/** Any Unicode, including control characters and (rarely) lone surrogates the canonical form refuses. */
const anyText = (max: number) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: max }) },
  );
const count = fc.oneof(
  fc.integer({ min: 1, max: 100 }),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);

const paymentInstructedArb = fc.record({
  paymentId: token(64),
  rosterId: fc.option(token(64), { nil: null }),
  row: fc.option(count, { nil: null }),
  householdId: token(64),
  programmeCode: code,
  period,
  quantity: count,
  amountFen: positiveFen,
  accountId: token(64),
  noticeId: fc.option(token(64), { nil: null }),
  acceptanceRef: fc.option(anyText(100), { nil: null }),
  registrySeq: fc.oneof(fc.constant(0), count),
  consumed: fc.array(fc.record({ trancheId: token(96), amountFen: positiveFen }), {
    minLength: 1,
    maxLength: 4,
  }),
});

const rosterSubmittedArb = fc.record({
  rosterId: token(64),
  programmeCode: code,
  period,
  accountId: token(64),
  noticeId: fc.option(token(64), { nil: null }),
  rowCount: count,
  totalFen: positiveFen,
  registrySeq: fc.oneof(fc.constant(0), count),
});

const headArb: fc.Arbitrary<EventHead> = envelopeArb.map(({ id: _id, ...head }) => head);
const idArb = envelopeArb.map((e) => e.id);

const roster = (data: unknown): Omit<BatchEvent, 'id'> => ({ type: 'PaymentInstructed', version: 1, data });

describe('eventBatchEncoder', () => {
  it('writes the bytes encodeEvent writes for random valid PaymentInstructed events', () => {
    fc.assert(
      fc.property(
        headArb,
        fc.array(fc.tuple(idArb, paymentInstructedArb), { minLength: 1, maxLength: 5 }),
        (head, events) => {
          const encoder = eventBatchEncoder(head);
          for (const [id, data] of events) {
            const event = { id, ...roster(data) };
            const fast = Buffer.from(encoder.encode(event)).toString('hex');
            const full = outcome(() => encodeEvent({ ...head, ...event } as never));
            expect(full).toEqual({ bytes: fast });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes the bytes encodeEvent writes for random valid RosterSubmitted events', () => {
    fc.assert(
      fc.property(headArb, idArb, rosterSubmittedArb, (head, id, data) => {
        const { fast, full } = both(head, { id, type: 'RosterSubmitted', version: 1, data });
        expect('bytes' in full).toBe(true);
        expect(fast).toEqual(full);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with encodeEvent on schemas with optional keys, nested objects and enums (audit events)', () => {
    const cases = [
      [audit.findingRaised, findingRaisedArb],
      [audit.findingRectified, findingRectifiedArb],
      [audit.findingReviewed, findingReviewedArb],
    ] as const;
    for (const [definition, arb] of cases) {
      fc.assert(
        fc.property(headArb, idArb, arb as fc.Arbitrary<unknown>, (head, id, data) => {
          const { fast, full } = both(head, { id, type: definition.type, version: definition.version, data });
          expect(fast).toEqual(full);
        }),
        { numRuns: 100 },
      );
    }
  });

  it('refuses what encodeEvent refuses, with the same error, when one field of a payment is anything else', () => {
    const keys = Object.keys(ledger.PaymentInstructed.data.shape);
    const junk = fc.oneof(
      fc.anything({
        withBigInt: true,
        withNullPrototype: true,
        withSparseArray: true,
        withBoxedValues: true,
      }),
      fc.constantFrom(
        0n,
        -1n,
        fenMax + 1n,
        -0,
        0,
        1.5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        '',
        ' ',
        'a.b',
        'x'.repeat(65),
        '\uD800',
        null,
        undefined,
      ),
      fc.array(fc.record({ trancheId: fc.string(), amountFen: fc.bigInt() }), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        headArb,
        idArb,
        paymentInstructedArb,
        fc.constantFrom(...keys, 'extraKey'),
        junk,
        (head, id, data, key, value) => {
          const { fast, full } = both(head, { id, ...roster({ ...data, [key]: value }) });
          expect(fast).toEqual(full);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('refuses a bad envelope: head, id, unknown type, superseded or unknown version', () => {
    const head = envelopeFor();
    const id = '01901968-8a80-7e85-9f73-093a11960799';
    const data = {
      paymentId: 'RS1-r2',
      rosterId: 'RS1',
      row: 2,
      householdId: 'H1',
      programmeCode: 'dibao_class1',
      period: '2024-06',
      quantity: 2,
      amountFen: 38_000n,
      accountId: 'POOL',
      noticeId: 'N1',
      acceptanceRef: null,
      registrySeq: 5,
      consumed: [{ trancheId: 'rcp_R1_0', amountFen: 38_000n }],
    };
    const valid = both(head, { id, ...roster(data) });
    expect('bytes' in valid.fast).toBe(true);
    expect(valid.fast).toEqual(valid.full);
    const refused: Array<[EventHead, BatchEvent]> = [
      [
        { ...head, recordedAt: '2024-06-15T01:00:00Z' },
        { id, ...roster(data) },
      ],
      [
        { ...head, partition: '991325' },
        { id, ...roster(data) },
      ],
      [
        { ...head, actor: { ...head.actor, org: ' 财政局' } },
        { id, ...roster(data) },
      ],
      [
        { ...head, actor: { ...head.actor, extra: 1 } as never },
        { id, ...roster(data) },
      ],
      [
        { ...head, commandId: 'has space' },
        { id, ...roster(data) },
      ],
      [{ ...head, unknown: true } as never, { id, ...roster(data) }],
      [head, { id: id.toUpperCase(), ...roster(data) }],
      [head, { id: '01901968-8a80-4e85-9f73-093a11960799', ...roster(data) }],
      [head, { id, type: 'PaymentInstructed', version: 2, data }],
      [head, { id, type: 'NoSuchEvent', version: 1, data }],
      [
        head,
        {
          id,
          type: 'FindingReviewed',
          version: 1,
          data: { findingId: 'F1', outcome: 'confirmed', note: 'n' },
        },
      ],
      [head, { id, ...roster({ ...data, acceptanceRef: 'x'.repeat(101) }) }],
    ];
    for (const [badHead, event] of refused) {
      const { fast, full } = both(badHead, event);
      expect('error' in full, JSON.stringify(full).slice(0, 200)).toBe(true);
      expect(fast).toEqual(full);
    }
  });

  it('refuses an event above eventBytesMax as encodeEvent does', () => {
    const big = defineEvent({
      type: 'BigThing',
      version: 1,
      context: 'audit',
      entity: 'big_thing',
      entityId: (d) => d.id,
      description: 'a test event that can outgrow the size limit',
      data: z.object({ id: z.string(), items: z.array(z.string().max(1_000)).max(1_000) }),
    });
    const events = buildCatalog([big]);
    const head = envelopeFor();
    const id = '01901968-8a80-7e85-9f73-093a11960799';
    const items = (n: number) => Array.from({ length: n }, () => 'x'.repeat(1_000));
    const small = eventBatchEncoder(head, events).encode({
      id,
      type: 'BigThing',
      version: 1,
      data: { id: 'a', items: items(10) },
    });
    expect(Buffer.from(small)).toEqual(
      Buffer.from(
        eventCodec(events).encodeEvent({
          ...head,
          id,
          type: 'BigThing',
          version: 1,
          data: { id: 'a', items: items(10) },
        }),
      ),
    );
    const encode = () =>
      eventBatchEncoder(head, events).encode({
        id,
        type: 'BigThing',
        version: 1,
        data: { id: 'a', items: items(600) },
      });
    expect(encode).toThrow(EventTooLargeError);
    expect(encode).toThrow(`above the limit of ${eventBytesMax}`);
  });

  it('canonicalEncoder writes canonicalJson(z.encode(schema, value)), or throws what that throws', () => {
    const withDefaults = z.object({
      note: z.string().max(20).nullable().default(null),
      tags: z
        .array(z.enum(['a', 'b']))
        .max(3)
        .optional(),
      amountFen: ledger.positiveFenSchema,
    });
    const plain = (schema: z.ZodType, value: unknown) => ({
      fast: outcome(() => Buffer.from(canonicalEncoder(schema)(value))),
      full: outcome(() => Buffer.from(canonicalJson(z.encode(schema, value as never)))),
    });
    const junk = fc.oneof(
      fc.anything({ withBigInt: true, withNullPrototype: true, withSparseArray: true }),
      fc.constantFrom(undefined, null, -0, 0n, 1n, 'x'.repeat(21), ['a', 'c'], ['a', 'b', 'a', 'b']),
    );
    fc.assert(
      fc.property(
        paymentInstructedArb,
        fc.constantFrom(...Object.keys(ledger.PaymentInstructed.data.shape), 'extraKey'),
        junk,
        fc.boolean(),
        (data, key, value, mutate) => {
          const { fast, full } = plain(
            ledger.PaymentInstructed.data,
            mutate ? { ...data, [key]: value } : data,
          );
          expect(fast).toEqual(full);
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            note: fc.oneof(fc.string({ maxLength: 25 }), junk),
            tags: junk,
            amountFen: fc.oneof(positiveFen, junk),
          },
          { requiredKeys: [] },
        ),
        (value) => {
          const { fast, full } = plain(withDefaults, value);
          expect(fast).toEqual(full);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('names subjects and message ids as subjectFor and messageId do', () => {
    fc.assert(
      fc.property(
        headArb,
        idArb,
        paymentInstructedArb,
        fc.constantFrom('', 'ns1', 'bench_a'),
        fc.nat({ max: eventsPerCommandMax - 1 }),
        (head, id, data, ns, index) => {
          const event = { id, ...roster(data) };
          const encoder = eventBatchEncoder(head);
          expect(encoder.subject(event, ns)).toBe(subjectFor({ ...head, ...event } as never, ns));
          expect(encoder.messageId(index)).toBe(messageId(head.commandId, index));
          expect(encoder.messageId(0)).toBe(messageId(head.commandId, 0));
        },
      ),
      { numRuns: 200 },
    );
    const encoder = eventBatchEncoder({ ...envelopeFor(), commandId: 'bad id' });
    expect(() => encoder.messageId(0)).toThrow(RangeError);
    expect(() => eventBatchEncoder(envelopeFor()).messageId(eventsPerCommandMax)).toThrow(RangeError);
    expect(() =>
      eventBatchEncoder(envelopeFor()).subject({ id: 'x', ...roster({ paymentId: 'a.b' }) }),
    ).toThrow(RangeError);
  });
});

function envelopeFor(): EventHead {
  return {
    partition: '411325',
    occurredAt: '2024-06-15T09:00:00+08:00',
    recordedAt: '2024-06-15T01:00:00.000Z',
    actor: { userId: 'u-1', role: 'finance', org: '内乡县财政局' },
    commandId: 'cmd-1',
    correlationId: 'cmd-1',
  };
}
