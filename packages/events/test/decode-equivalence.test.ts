import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  acceptedWireEnvelope,
  actorKeys,
  actorSchema,
  audit,
  canonicalJson,
  catalog,
  createEvent,
  decodeStoredEvent,
  EventDecodeError,
  encodeEvent,
  flattenIssues,
  isRfc3339,
  ledger,
  rfc3339Problem,
  UpcastError,
  wireEnvelopeKeys,
  wireEnvelopeSchema,
} from '../src';
import { payloadDecoder } from '../src/payload-decoder';
import { envelopeArb, findingRaisedArb, findingRectifiedArb, findingReviewedArb } from './fixtures';

/**
 * Decoding a stored event has fast paths (parseCanonical reading the text against the value,
 * acceptedWireEnvelope, isRfc3339, the fen wire check): each may only accept what the full checks
 * accept, answering the same. The reference below is decodeStoredEvent as it was before them (the
 * canonical check by re-encoding, the envelope by its zod schema): both must give the same event
 * (same keys in the same order) or the same error, on valid events and on every kind of bad one.
 */

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type Outcome =
  | { readonly event: unknown; readonly keys: string; readonly wireData: unknown }
  | { readonly error: string; readonly reason?: string; readonly detail?: string; readonly issues?: unknown };

function referenceDecode(bytes: Uint8Array): { event: unknown; wireData: unknown } {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw new EventDecodeError('malformed_json', 'utf-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EventDecodeError('malformed_json', 'json');
  }
  let again: string | undefined;
  try {
    again = canonicalJson(value);
  } catch {
    again = undefined;
  }
  if (text.charCodeAt(0) === 0xfeff || again !== text) throw new EventDecodeError('malformed_json', 'form');
  const envelope = wireEnvelopeSchema.safeParse(value);
  if (!envelope.success) {
    throw new EventDecodeError('schema_mismatch', 'envelope', flattenIssues(envelope.error.issues));
  }
  const { type, version } = envelope.data;
  let definition = catalog.definition(type, version);
  if (definition === undefined) {
    const known = catalog.latest(type);
    throw new EventDecodeError(
      'unknown_type',
      known === undefined
        ? `event type ${type} is not in the catalogue`
        : `${type} v${version} is not in the catalogue (latest known is v${known.version}; written by a newer release?)`,
    );
  }
  const latest = catalog.latest(type)!;
  let data: unknown = envelope.data.data;
  let decoded = z.safeDecode(definition.data, data);
  if (!decoded.success) {
    throw new EventDecodeError(
      'schema_mismatch',
      `${type} v${version} payload`,
      flattenIssues(decoded.error.issues, '/data'),
    );
  }
  while (definition.version < latest.version) {
    const from: number = definition.version;
    data = catalog.upcaster(type, from)!.up(data);
    definition = catalog.definition(type, from + 1)!;
    decoded = z.safeDecode(definition.data, data);
    if (!decoded.success) throw new UpcastError(type, from, flattenIssues(decoded.error.issues, '/data'));
  }
  const { causationId, ...fields } = envelope.data;
  const event = {
    ...fields,
    ...(causationId === undefined ? {} : { causationId }),
    version: definition.version,
    data: decoded.data,
  };
  return { event, wireData: (value as { data: unknown }).data };
}

function outcome(decode: (bytes: Uint8Array) => { event: unknown; wireData: unknown }, bytes: Uint8Array) {
  try {
    const { event, wireData } = decode(bytes);
    return { event, keys: Object.keys(event as object).join(','), wireData } satisfies Outcome;
  } catch (error) {
    if (error instanceof EventDecodeError) {
      // The problem text of malformed bytes comes from the one full check both share.
      return error.reason === 'malformed_json'
        ? { error: error.name, reason: error.reason }
        : { error: error.name, reason: error.reason, detail: error.detail, issues: error.issues };
    }
    return { error: (error as Error).name, detail: (error as Error).message };
  }
}

/**
 * JSON with bigints marked, keys in their order: what the two answers are compared by (an own
 * `constructor` key, which a payload may carry, defeats toStrictEqual's class comparison).
 */
function written(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? `${item}n` : item));
}

function expectSameDecoding(bytes: Uint8Array): Outcome {
  const expected = outcome(referenceDecode, bytes);
  const actual = outcome(decodeStoredEvent, bytes);
  expect(written(actual)).toBe(written(expected));
  return actual;
}

const storedText = (wire: unknown) => {
  try {
    return canonicalJson(wire);
  } catch {
    return JSON.stringify(wire);
  }
};
const stored = (wire: unknown) => utf8.encode(storedText(wire));

// ── Valid events ──

const dateArb = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) })
  .map((ms) => new Date(ms).toISOString().slice(0, 10));
const token = (max: number) =>
  fc.stringMatching(/^[A-Za-z0-9_-]+$/).filter((s) => s.length >= 1 && s.length <= max);
/** Text the payload schemas take: any Unicode but control characters, not blank, within `max` code units. */
const text = (max: number) =>
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 40) })
    .map((s) => s.replace(/\p{Cc}/gu, ''))
    .filter((s) => s.trim() !== '' && s.length <= max);
const positiveFen = fc.oneof(
  fc.bigInt({ min: 1n, max: 10n ** 15n }),
  fc.constantFrom(1n, 10n ** 15n, 10n ** 15n - 1n, 57_000n),
);

const validEvent = fc
  .tuple(
    envelopeArb,
    fc.oneof(
      findingRaisedArb.map((data) => [audit.findingRaised, data] as const),
      findingReviewedArb.map((data) => [audit.findingReviewed, data] as const),
      findingRectifiedArb.map((data) => [audit.findingRectified, data] as const),
      fc
        .record({ findingId: token(64), note: text(200) })
        .map((data) => [audit.findingReviewedV1, data] as const),
      fc
        .record({ paymentId: token(64), bankReference: text(500), settledOn: dateArb })
        .map((data) => [ledger.PaymentSettled, data] as const),
      fc
        .record({
          paymentId: token(64),
          rosterId: fc.option(token(64), { nil: null }),
          row: fc.option(fc.integer({ min: 1, max: 1e6 }), { nil: null }),
          householdId: token(64),
          programmeCode: fc.stringMatching(/^[a-z][a-z0-9_]{0,39}$/),
          period: fc.stringMatching(/^[0-9]{4}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$/),
          quantity: fc.integer({ min: 1, max: 100 }),
          amountFen: positiveFen,
          accountId: token(64),
          noticeId: fc.option(token(64), { nil: null }),
          acceptanceRef: fc.option(text(100), { nil: null }),
          registrySeq: fc.nat(),
          consumed: fc.array(fc.record({ trancheId: token(96), amountFen: positiveFen }), {
            minLength: 1,
            maxLength: 4,
          }),
        })
        .map((data) => [ledger.PaymentInstructed, data] as const),
    ),
  )
  .map(([envelope, [definition, data]]) => {
    const event = createEvent(definition as typeof audit.findingRaised, { ...envelope, data: data as never });
    return JSON.parse(new TextDecoder().decode(encodeEvent(event, { allowSuperseded: true }))) as Record<
      string,
      unknown
    >;
  });

// ── Bad values, one or more per check the envelope makes ──

const uuid = '0190a6e4-4b3a-7c2d-8e1f-123456789abc';
const badByField: Readonly<Record<string, readonly unknown[]>> = {
  id: [uuid.toUpperCase(), '3b241101-e2bb-4255-8caf-4136c566a962', '', `${uuid}0`, 7, null],
  type: ['paymentSettled', 'Payment.Settled', `P${'a'.repeat(64)}`, `P${'a'.repeat(63)}`, '', 1],
  version: [0, 100, 99, 1.5, '1', -1, 2 ** 53, null],
  partition: ['41132', '991325', '410025', '41132X', '000000', 411325, ''],
  occurredAt: [
    '2019-02-29T00:00:00Z',
    '2020-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2000-02-29T00:00:00+08:00',
    '2019-04-31T00:00:00Z',
    '2019-13-01T00:00:00Z',
    '2019-00-01T00:00:00Z',
    '2019-01-00T00:00:00Z',
    '2019-01-01T24:00:00Z',
    '2019-01-01T00:60:00Z',
    '2019-01-01T00:00:60Z',
    '2019-01-01T00:00:00+24:00',
    '2019-01-01T00:00:00-23:60',
    '2019-01-01T00:00:00.1234567890Z',
    '2019-01-01T00:00:00.123456789-05:30',
    '2019-01-01t00:00:00Z',
    '2019-01-01T00:00:00z',
    '2019-01-01T00:00:00',
    '2019-01-01',
    20190101,
  ],
  recordedAt: [
    '2019-01-01T00:00:00Z',
    '2019-01-01T00:00:00.00Z',
    '2019-01-01T00:00:00.000+00:00',
    '2019-02-29T00:00:00.000Z',
    '2019-01-01T23:59:60.000Z',
    '2016-12-31T23:59:59.999Z',
  ],
  actor: [null, [], 'u-1', {}],
  'actor.userId': ['', ' u', 'u ', '\u3000u', 'a\u0007b', 'a\u0085b', 'x'.repeat(128), 'x'.repeat(129), 1],
  'actor.role': ['admin', 'Finance', '', null],
  'actor.org': ['', '县 ', 'x'.repeat(200), 'x'.repeat(201), '\u007f', ['x']],
  commandId: ['', 'a b', '中', 'x'.repeat(128), 'x'.repeat(129), 'a/b', 1],
  correlationId: ['', 'a b', 'x'.repeat(129), null],
  causationId: ['', 'a b', 'x'.repeat(129), null, 'evt:1'],
  data: [
    [],
    'x',
    null,
    1,
    { constructor: 'x' },
    { constructor: {} },
    { constructor: null },
    JSON.parse('{"__proto__":{"a":1}}'),
  ],
};

function withField(wire: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const [outer, inner] = field.split('.') as [string, string | undefined];
  if (inner === undefined) return { ...wire, [outer]: value };
  return { ...wire, [outer]: { ...(wire[outer] as object), [inner]: value } };
}

function withoutField(wire: Record<string, unknown>, field: string): Record<string, unknown> {
  const [outer, inner] = field.split('.') as [string, string | undefined];
  const copy = { ...wire };
  if (inner === undefined) delete copy[outer];
  else {
    const nested = { ...(copy[outer] as Record<string, unknown>) };
    delete nested[inner];
    copy[outer] = nested;
  }
  return copy;
}

/** Any JSON value, small: what a mutation puts in place of a field. */
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom(...Object.values(badByField).flat()),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', '1')),
      tie('value'),
      {
        maxKeys: 3,
        noNullPrototype: true,
      },
    ),
  ),
})).value;

const fieldNames = [...Object.keys(badByField), 'data.paymentId', 'data.amountFen', 'data.findingId'];

/** The schema's answer; zod's z.record throws a TypeError for a `data` whose own `constructor` is null. */
function schemaAnswer(wire: unknown): { success: boolean; data?: unknown } {
  try {
    return wireEnvelopeSchema.safeParse(wire);
  } catch {
    return { success: false };
  }
}

describe('acceptedWireEnvelope', () => {
  it('knows exactly the keys of the envelope and actor schemas (a field added to one is added to both)', () => {
    expect([...wireEnvelopeKeys].sort()).toEqual(Object.keys(wireEnvelopeSchema.shape).sort());
    expect([...actorKeys].sort()).toEqual(Object.keys(actorSchema.shape).sort());
  });

  it('answers what the schema answers for every valid envelope, key order included (property)', () => {
    fc.assert(
      fc.property(validEvent, (wire) => {
        const fast = acceptedWireEnvelope(wire);
        const full = wireEnvelopeSchema.safeParse(wire);
        expect(full.success).toBe(true);
        expect(fast).toStrictEqual(full.data);
        expect(Object.keys(fast!)).toEqual(Object.keys(full.data!));
        expect(Object.keys(fast!.actor)).toEqual(Object.keys(full.data!.actor));
      }),
      { numRuns: 300 },
    );
  });

  it('vouches for no envelope the schema refuses: each bad value of each field, and any value (property)', () => {
    const base = fc.sample(validEvent, { numRuns: 1, seed: 7 })[0]!;
    for (const [field, values] of Object.entries(badByField)) {
      for (const value of values) {
        const wire = withField(base, field, value);
        const full = schemaAnswer(wire);
        const fast = acceptedWireEnvelope(wire);
        // Undefined for a valid one only where z.record's own rules need zod (`__proto__`, `constructor`).
        if (!full.success) expect(fast, `${field} = ${JSON.stringify(value)}`).toBeUndefined();
        else if (fast !== undefined || field !== 'data') expect(fast).toStrictEqual(full.data);
      }
    }
    fc.assert(
      fc.property(
        validEvent,
        fc.constantFrom(...fieldNames, 'extra', '__proto__'),
        anyJson,
        fc.boolean(),
        (wire, field, value, drop) => {
          const mutated = drop ? withoutField(wire, field) : withField(wire, field, value);
          const full = schemaAnswer(mutated);
          const fast = acceptedWireEnvelope(mutated);
          if (fast !== undefined) expect(fast).toStrictEqual(full.data);
          else if (full.success) expect(field === 'data' || field.startsWith('data.')).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('decodeStoredEvent', () => {
  it('decodes valid events of several types and versions exactly as the full checks do (property)', () => {
    fc.assert(
      fc.property(validEvent, (wire) => {
        expect('event' in expectSameDecoding(stored(wire))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses each bad envelope field with the same error, issues and paths as the full checks', () => {
    const bases = fc.sample(validEvent, { numRuns: 4, seed: 11 });
    for (const base of bases) {
      for (const [field, values] of Object.entries(badByField)) {
        for (const value of values) expectSameDecoding(stored(withField(base, field, value)));
        expectSameDecoding(stored(withoutField(base, field)));
      }
      expectSameDecoding(stored({ ...base, extra: 1 }));
      expectSameDecoding(stored(JSON.parse(`{"__proto__":1,${storedText(base).slice(1)}`)));
    }
  });

  it('answers every catalogue type and version as the full checks do, for a random payload (property)', () => {
    const definitions = catalog.definitions;
    fc.assert(
      fc.property(
        validEvent,
        fc.constantFrom(...definitions),
        fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 6, noNullPrototype: true }),
        (wire, definition, data) => {
          expectSameDecoding(stored({ ...wire, type: definition.type, version: definition.version, data }));
        },
      ),
      { numRuns: 1_000 },
    );
    for (const definition of definitions) {
      const wire = fc.sample(validEvent, { numRuns: 1, seed: 3 })[0]!;
      expectSameDecoding(stored({ ...wire, type: definition.type, version: definition.version }));
      expectSameDecoding(stored({ ...wire, type: definition.type, version: definition.version + 1 }));
    }
  });

  it('answers any mutation of a field as the full checks do (property)', () => {
    fc.assert(
      fc.property(
        validEvent,
        fc.constantFrom(...fieldNames, 'extra'),
        anyJson,
        fc.boolean(),
        (wire, field, value, drop) => {
          expectSameDecoding(stored(drop ? withoutField(wire, field) : withField(wire, field, value)));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('refuses a text that is not the canonical spelling of a valid event as the full checks do (property)', () => {
    const respell = fc.constantFrom(
      (t: string, i: number) => `${t.slice(0, i)} ${t.slice(i)}`,
      (t: string, i: number) => `${t.slice(0, i)}\n${t.slice(i)}`,
      (t: string, i: number) => t.slice(0, i) + t.slice(i).replace(/(?<=:)([0-9]+)(?=[,}\]])/, '$1.0'),
      (t: string, i: number) => t.slice(0, i) + t.slice(i).replace(/(?<=:)([0-9]+)(?=[,}\]])/, '$1e0'),
      (t: string, i: number) => t.slice(0, i) + t.slice(i).replace(/(?<=:)([1-9])(?=[,}\]])/, '0$1'),
      (t: string, i: number) => t.slice(0, i) + t.slice(i).replace(/(?<=:)0(?=[,}\]])/, '-0'),
      (t: string, i: number) =>
        t.slice(0, i) + t.slice(i).replace(/[A-Za-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
      (t: string, i: number) => t.slice(0, i) + t.slice(i).replace(/,("[a-zA-Z]+":"[^"\\]*")/, ',$1,$1'),
      (t: string, i: number) =>
        t.slice(0, i) + t.slice(i).replace(/"([a-zA-Z]+)":("[^"\\]*"),"([a-zA-Z]+)":/, '"$3":$2,"$1":'),
      (t: string, i: number) => `${t.slice(0, i)}${t.slice(i + 1)}`,
      (t: string) => `\ufeff${t}`,
      (t: string) => `${t}\n`,
    );
    fc.assert(
      fc.property(validEvent, respell, fc.nat(), (wire, change, at) => {
        const text = storedText(wire);
        expectSameDecoding(utf8.encode(change(text, at % text.length)));
      }),
      { numRuns: 2_000 },
    );
  });
});

/** rfc3339Problem as it was before isRfc3339: the reference for the fast check. */
function referenceRfc3339Problem(text: string): string | undefined {
  const match =
    /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|([+-])([0-9]{2}):([0-9]{2}))$/.exec(
      text,
    );
  if (match === null) return 'pattern';
  const [, y, mo, d, h, mi, s, , zone, , oh, om] = match;
  const year = Number(y);
  const month = Number(mo);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12) return 'month';
  if (Number(d) < 1 || Number(d) > days) return 'day';
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return 'time';
  if (zone !== 'Z' && (Number(oh) > 23 || Number(om) > 59)) return 'offset';
  return undefined;
}

describe('isRfc3339', () => {
  it('is true exactly when the full check finds no problem, and the problem text is unchanged (property)', () => {
    const two = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
    const stamp = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        two,
        two,
        two,
        two,
        two,
        fc.option(fc.stringMatching(/^\.[0-9]{1,10}$/), { nil: '' }),
        fc.oneof(
          fc.constant('Z'),
          fc.tuple(fc.constantFrom('+', '-'), two, two).map(([s, h, m]) => `${s}${h}:${m}`),
        ),
      )
      .map(([y, mo, d, h, mi, s, fraction, zone]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}${zone}`);
    const near = fc.tuple(stamp, fc.nat(), fc.string({ maxLength: 1 })).map(([t, i, c]) => {
      const at = i % (t.length + 1);
      return `${t.slice(0, at)}${c}${t.slice(at + 1)}`;
    });
    fc.assert(
      fc.property(fc.oneof(stamp, near), (text) => {
        const expected = referenceRfc3339Problem(text);
        expect(isRfc3339(text)).toBe(expected === undefined);
        expect(rfc3339Problem(text) === undefined).toBe(expected === undefined);
      }),
      { numRuns: 5_000 },
    );
    for (const leap of [
      '2000-02-29T00:00:00Z',
      '2024-02-29T23:59:59.999999999+14:00',
      '1600-02-29T00:00:00Z',
    ])
      expect(isRfc3339(leap)).toBe(true);
    for (const common of ['1900-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2024-02-30T00:00:00Z'])
      expect(rfc3339Problem(common)).toMatch(/does not exist/);
  });
});

// ── Payloads of every catalogue type, generated from their schemas ──

type SchemaNode = z.ZodType & {
  _zod: { def: Record<string, unknown> & { type: string }; values?: ReadonlySet<unknown> };
};

/** Strings for leaves whose rule is a function (codes, times, amounts): each leaf takes the ones it accepts. */
const leafPool = [
  '411325',
  '411300',
  '000000',
  '410000',
  '411325100',
  '411325100201',
  '2019-05-06T09:02:03+08:00',
  '2019-05-06T01:02:04.000Z',
  '2019-05-06',
  '0',
  '1',
  '57000',
  '1000000000000000',
  '-125000',
  'LEDGER_411325',
  'REGISTRY_411325',
  'paid',
  '内乡县',
];

function checksOfNode(node: SchemaNode): { _zod: { def: Record<string, unknown> } }[] {
  return ((node._zod.def.checks as never[] | undefined) ?? []).concat(
    (node._zod as unknown as { traits: Set<string> }).traits.has('$ZodCheck') ? [node as never] : [],
  );
}

/**
 * Values a schema node accepts, and now and then (1 in 31 a leaf) one it may not: the payload is
 * judged whole, and the mutations below make the rest of the bad ones.
 */
function arbitraryOf(node: SchemaNode): fc.Arbitrary<unknown> {
  const def = node._zod.def;
  const checks = checksOfNode(node).map((check) => check._zod.def);
  const bound = (kind: string) => checks.find((check) => check.check === kind)?.value as number | undefined;
  const length = (kind: string) =>
    checks.find((check) => check.check === kind) as { minimum?: number; maximum?: number } | undefined;
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, SchemaNode>;
      const required = Object.keys(shape).filter((key) => shape[key]!._zod.def.type !== 'optional');
      return fc.record(
        Object.fromEntries(Object.entries(shape).map(([key, child]) => [key, arbitraryOf(child)])),
        { requiredKeys: required },
      );
    }
    case 'optional':
      return arbitraryOf(def.innerType as SchemaNode);
    case 'nullable':
      return fc.option(arbitraryOf(def.innerType as SchemaNode), { nil: null });
    case 'array': {
      const min = length('min_length')?.minimum ?? 0;
      return fc.array(arbitraryOf(def.element as SchemaNode), {
        minLength: min,
        maxLength: Math.max(min, 3),
      });
    }
    case 'enum':
      return fc.constantFrom(...node._zod.values!);
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'boolean':
      return fc.boolean();
    case 'union':
      return fc.oneof(...(def.options as SchemaNode[]).map(arbitraryOf));
    case 'pipe':
      return arbitraryOf(def.in as SchemaNode);
    case 'number': {
      const min = Math.max(bound('greater_than') ?? -1_000, -1_000);
      const max = Math.min(bound('less_than') ?? 1_000_000, 1_000_000);
      return fc.oneof(
        { weight: 30, arbitrary: fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max)) },
        { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1, 0.5) },
      );
    }
    case 'string': {
      const format = checks.find((check) => check.check === 'string_format') as
        | { pattern?: RegExp }
        | undefined;
      const min = length('min_length')?.minimum ?? 0;
      const max = length('max_length')?.maximum ?? 500;
      const accepted = leafPool.filter((text) => node.safeParse(text).success);
      const matching =
        format?.pattern !== undefined
          ? fc.stringMatching(format.pattern)
          : accepted.length > 0
            ? fc.constantFrom(...accepted)
            : text(Math.max(1, max));
      return fc.oneof(
        { weight: 30, arbitrary: matching.filter((s) => s.length >= min && s.length <= max) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
      );
    }
    default:
      return anyJson;
  }
}

describe('payloadDecoder', () => {
  it('answers z.safeDecode for payloads of every catalogue type and version, valid and mutated (property)', () => {
    for (const definition of catalog.definitions) {
      const schema = definition.data as unknown as SchemaNode;
      const decoder = payloadDecoder(definition);
      let vouched = 0;
      fc.assert(
        fc.property(
          arbitraryOf(schema),
          fc.option(fc.tuple(fc.string({ maxLength: 12 }), anyJson, fc.boolean()), { freq: 3 }),
          (generated, mutation) => {
            let data = generated as Record<string, unknown>;
            if (mutation !== null) {
              const [field, value, drop] = mutation;
              const keys = Object.keys(data);
              const key =
                keys.length > 0 && field.length % 2 === 0 ? keys[field.length % keys.length]! : field;
              data = { ...data };
              if (drop) delete data[key];
              else data[key] = value;
            }
            let full: { success: boolean; data?: unknown };
            try {
              full = z.safeDecode(definition.data, data);
            } catch {
              full = { success: false };
            }
            const fast = decoder(data);
            if (fast !== undefined) {
              expect(full.success).toBe(true);
              expect(written(fast.value)).toBe(written(full.data));
              vouched++;
            } else if (mutation === null)
              expect(full.success, `${definition.type} v${definition.version}`).toBe(false);
          },
        ),
        { numRuns: 150 },
      );
      // Every type's valid payloads take the fast path, not only its refusals.
      expect(vouched, `${definition.type} v${definition.version}`).toBeGreaterThan(0);
    }
  });
});
