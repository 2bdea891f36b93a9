import { fenSchema } from '@fundtrace/money';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  type AnyEvent,
  audit,
  auditEvents,
  buildCatalog,
  CatalogError,
  catalog,
  createEvent,
  decodeEvent,
  defineEvent,
  defineUpcaster,
  type EventOf,
  EventTooLargeError,
  type EventType,
  encodeEvent,
  eventBytesMax,
  eventCodec,
  eventDefinitions,
  ledger,
  ledgerEvents,
  registryEvents,
  UpcastError,
  upcasters,
  wireShapeProblems,
} from '../src';
import { envelopeInput } from './fixtures';

// A synthetic event that evolved twice, to test the chain beyond one step.
const grantV1 = defineEvent({
  type: 'GrantPaid',
  version: 1,
  context: 'ledger',
  entity: 'grant',
  description: 'v1: amount in whole yuan as a number (the mistake v2 fixes).',
  data: z.object({ grantId: z.string(), yuan: z.int() }),
  entityId: (d) => d.grantId,
});
const grantV2 = defineEvent({
  type: 'GrantPaid',
  version: 2,
  context: 'ledger',
  entity: 'grant',
  description: 'v2: amount in fen.',
  data: z.object({ grantId: z.string(), amountFen: fenSchema }),
  entityId: (d) => d.grantId,
});
const grantV3 = defineEvent({
  type: 'GrantPaid',
  version: 3,
  context: 'ledger',
  entity: 'grant',
  description: 'v3: names the programme.',
  data: z.object({ grantId: z.string(), amountFen: fenSchema, programme: z.string().min(1) }),
  entityId: (d) => d.grantId,
});
const grantV1to2 = defineUpcaster(grantV1, grantV2, (d) => ({
  grantId: d.grantId,
  amountFen: (BigInt(d.yuan) * 100n).toString(),
}));
const grantV2to3 = defineUpcaster(grantV2, grantV3, (d) => ({ ...d, programme: 'unknown' }));

describe('buildCatalog', () => {
  it('indexes every version and knows the latest', () => {
    const built = buildCatalog([grantV3, grantV1, grantV2], [grantV2to3, grantV1to2]);
    expect(built.types).toEqual(['GrantPaid']);
    expect(built.latest('GrantPaid')).toBe(grantV3);
    expect(built.definition('GrantPaid', 1)).toBe(grantV1);
    expect(built.definition('GrantPaid', 4)).toBeUndefined();
    expect(built.latest('Nothing')).toBeUndefined();
    expect(built.definitions.map((d) => d.version)).toEqual([1, 2, 3]);
  });

  it('throws at load on a duplicate (type, version)', () => {
    const twin = defineEvent({ ...grantV1, description: 'another v1' });
    expect(() => buildCatalog([grantV1, twin])).toThrow(new CatalogError('GrantPaid v1 is defined twice'));
  });

  it('throws at load on a gap in versions or a type without v1', () => {
    expect(() => buildCatalog([grantV1, grantV3], [grantV1to2])).toThrow(
      /versions must run 1..n without gaps/,
    );
    expect(() => buildCatalog([grantV2])).toThrow(/without gaps/);
  });

  it('throws at load when a version moves to another context or entity (its subjects would move)', () => {
    const moved = defineEvent({ ...grantV2, entity: 'payment' });
    expect(() => buildCatalog([grantV1, moved], [grantV1to2])).toThrow(
      /ledger\/payment but v1 is ledger\/grant/,
    );
  });

  it('throws at load when a superseded version has no upcaster, or an upcaster has no place', () => {
    expect(() => buildCatalog([grantV1, grantV2, grantV3], [grantV1to2])).toThrow(
      /GrantPaid v2 is superseded by v3 but has no upcaster to v3/,
    );
    expect(() => buildCatalog([grantV1, grantV2], [grantV1to2, grantV2to3])).toThrow(
      /upcasts the latest version/,
    );
    expect(() => buildCatalog([grantV1], [grantV1to2])).toThrow(/upcasts the latest version/);
    expect(() => buildCatalog([audit.findingRaised], [grantV1to2])).toThrow(/not in the catalogue/);
    expect(() => buildCatalog([grantV1, grantV2], [grantV1to2, grantV1to2])).toThrow(/defined twice/);
  });

  it('throws at load on malformed names', () => {
    const bad = (patch: object) => buildCatalog([{ ...grantV1, ...patch }]);
    expect(() => bad({ type: 'grantPaid' })).toThrow(/PascalCase/);
    expect(() => bad({ version: 0 })).toThrow(/version/);
    expect(() => bad({ context: 'finance' })).toThrow(/unknown context/);
    expect(() => bad({ entity: 'Grant.Paid' })).toThrow(/snake_case/);
    expect(() => bad({ description: ' ' })).toThrow(/description is empty/);
  });
});

describe('defineUpcaster', () => {
  it('only joins consecutive versions of one type in one context and entity', () => {
    expect(() => defineUpcaster(grantV1, grantV3, (d) => ({ ...d, amountFen: '0', programme: 'x' }))).toThrow(
      /from v1 to v2, not v3/,
    );
    expect(() =>
      defineUpcaster(audit.findingReviewedV1, grantV2, () => ({ grantId: 'g', amountFen: '0' })),
    ).toThrow(/never changes the event type/);
    const elsewhere = defineEvent({ ...grantV2, context: 'audit' });
    expect(() => defineUpcaster(grantV1, elsewhere, () => ({ grantId: 'g', amountFen: '0' }))).toThrow(
      /keep the context/,
    );
  });
});

describe('upcast chain (synthetic v1 → v2 → v3)', () => {
  const codec = eventCodec(buildCatalog([grantV1, grantV2, grantV3], [grantV1to2, grantV2to3]));
  const base = envelopeInput({}, {});

  it('decodes stored v1 bytes to v3, running each upcaster once, in order', () => {
    const v1 = createEvent(grantV1, { ...base, data: { grantId: 'g-1', yuan: 8_000 } });
    const decoded = codec.decodeEvent(codec.encodeEvent(v1, { allowSuperseded: true })) as unknown as {
      version: number;
      data: unknown;
    };
    expect(decoded.version).toBe(3);
    expect(decoded.data).toStrictEqual({ grantId: 'g-1', amountFen: 800_000n, programme: 'unknown' });
  });

  it('decodes v2 bytes through the last step only and latest bytes unchanged', () => {
    const v2 = createEvent(grantV2, { ...base, data: { grantId: 'g-2', amountFen: 5n } });
    const fromV2 = codec.decodeEvent(codec.encodeEvent(v2, { allowSuperseded: true })) as unknown as {
      data: unknown;
    };
    expect(fromV2.data).toStrictEqual({ grantId: 'g-2', amountFen: 5n, programme: 'unknown' });
    const v3 = createEvent(grantV3, {
      ...base,
      data: { grantId: 'g-3', amountFen: 5n, programme: '雨露计划' },
    });
    expect(codec.decodeEvent(codec.encodeEvent(v3))).toStrictEqual(v3);
  });

  it('decodeStoredEvent answers the payload as stored (v1, money as written) beside the v3 event', () => {
    const v1 = createEvent(grantV1, { ...base, data: { grantId: 'g-1', yuan: 8_000 } });
    const bytes = codec.encodeEvent(v1, { allowSuperseded: true });
    const { event, wireData } = codec.decodeStoredEvent(bytes);
    expect(event).toStrictEqual(codec.decodeEvent(bytes));
    expect((event as unknown as { data: unknown }).data).toStrictEqual({
      grantId: 'g-1',
      amountFen: 800_000n,
      programme: 'unknown',
    });
    // What the projector stores in events.data: the stored payload, not the upcast one.
    expect(wireData).toStrictEqual({ grantId: 'g-1', yuan: 8_000 });
    expect(wireData).toStrictEqual(JSON.parse(new TextDecoder().decode(bytes)).data);
  });

  it('reports stored bytes that fail their own (old) schema as schema_mismatch, before upcasting', () => {
    const v1 = createEvent(grantV1, { ...base, data: { grantId: 'g-1', yuan: 1 } });
    const bytes = codec.encodeEvent(v1, { allowSuperseded: true });
    const tampered = new TextEncoder().encode(
      new TextDecoder().decode(bytes).replace('"yuan":1', '"yuan":"1"'),
    );
    expect(() => codec.decodeEvent(tampered)).toThrow(/schema_mismatch.*GrantPaid v1 payload/);
  });

  it('crashes with UpcastError when an upcaster produces what the next schema refuses (a bug, not bad bytes)', () => {
    const broken = defineUpcaster(grantV1, grantV2, (d) => ({
      grantId: d.grantId,
      amountFen: String(d.yuan * 1.5),
    }));
    const brokenCodec = eventCodec(buildCatalog([grantV1, grantV2], [broken]));
    const v1 = createEvent(grantV1, { ...base, data: { grantId: 'g', yuan: 3 } });
    expect(() => brokenCodec.decodeEvent(brokenCodec.encodeEvent(v1, { allowSuperseded: true }))).toThrow(
      UpcastError,
    );
  });
});

describe('FindingReviewed v1 → v2 (the product catalogue)', () => {
  it('upcasts a stored v1 review to outcome needs_trace, keeping the note word for word', () => {
    const note = '经核实，该户2018年危房改造补助已于7月发放，\n待调取银行回单。';
    const v1 = createEvent(audit.findingReviewedV1, envelopeInput({ findingId: 'F-7', note }));
    const decoded = decodeEvent(encodeEvent(v1, { allowSuperseded: true }));
    expect(decoded.type).toBe('FindingReviewed');
    expect(decoded.version).toBe(2);
    if (decoded.type !== 'FindingReviewed') throw new Error('narrowing');
    expect(decoded.data).toStrictEqual({ findingId: 'F-7', outcome: 'needs_trace', note });
    const { data: _v1Data, version: _v1, ...v1Envelope } = v1;
    const { data: _v2Data, version: _v2, ...v2Envelope } = decoded;
    expect(v2Envelope).toStrictEqual(v1Envelope);
  });

  it('decodes v2 as written, whatever the outcome', () => {
    for (const outcome of ['confirmed', 'dismissed', 'needs_trace'] as const) {
      const v2 = createEvent(
        audit.findingReviewed,
        envelopeInput({ findingId: 'F-8', outcome, note: '复核' }),
      );
      expect(decodeEvent(encodeEvent(v2))).toStrictEqual(v2);
    }
  });
});

describe('the product catalogue', () => {
  it('holds every context array and every upcaster, and loads', () => {
    expect(catalog.definitions).toHaveLength(eventDefinitions.length);
    expect(eventDefinitions.length).toBe(ledgerEvents.length + registryEvents.length + auditEvents.length);
    for (const definition of eventDefinitions) {
      expect(catalog.definition(definition.type, definition.version)).toBe(definition);
    }
    expect(catalog.latest('FindingReviewed')?.version).toBe(2);
    expect(upcasters).toContain(audit.findingReviewedV1ToV2);
  });

  it('keeps each context on its own stream', () => {
    for (const definition of ledgerEvents) expect(definition.context).toBe('ledger');
    for (const definition of registryEvents) expect(definition.context).toBe('registry');
    for (const definition of auditEvents) {
      expect(definition.context).toBe('audit');
      // Findings, and the operators' quarantines of undecodable events (`fundtrace quarantine`).
      expect(['finding', 'quarantine']).toContain(definition.entity);
    }
  });

  it('types: EventOf is the latest version with decoded money; AnyEvent is the union of all types', () => {
    expectTypeOf<EventOf<'FindingReviewed'>['version']>().toEqualTypeOf<2>();
    expectTypeOf<EventOf<'FindingReviewed'>['data']['outcome']>().toEqualTypeOf<
      'confirmed' | 'dismissed' | 'needs_trace'
    >();
    expectTypeOf<EventOf<'FindingRaised'>['data']['amounts'][number]['amountFen']>().toEqualTypeOf<bigint>();
    expectTypeOf<'FindingRaised'>().toExtend<EventType>();
    // Other contexts' arrays flow in with no registration step.
    expectTypeOf<'AllocationIssued'>().toExtend<EventType>();
    expectTypeOf<'HouseholdRegistered'>().toExtend<EventType>();
    expectTypeOf<EventOf<'AllocationIssued'>['data']['amountFen']>().toEqualTypeOf<bigint>();
    expectTypeOf<EventOf<'AllocationIssued'>['version']>().toEqualTypeOf<1>();
    expectTypeOf<Extract<AnyEvent, { type: 'PaymentInstructed' }>>().toEqualTypeOf<
      EventOf<'PaymentInstructed'>
    >();
    expectTypeOf<'FindingClosed'>().toExtend<AnyEvent['type']>();
    expectTypeOf<AnyEvent['type']>().toEqualTypeOf<EventType>();
  });
});

describe('size limit', () => {
  const blob = defineEvent({
    type: 'BlobStored',
    version: 1,
    context: 'audit',
    entity: 'blob',
    description: 'test only: an unbounded string',
    data: z.object({ id: z.string(), body: z.string() }),
    entityId: (d) => d.id,
  });
  const codec = eventCodec(buildCatalog([blob]));
  const envelope = envelopeInput({}, {});
  // Envelope and keys take a few hundred bytes; measure them instead of guessing.
  const overhead = codec.encodeEvent(createEvent(blob, { ...envelope, data: { id: 'b', body: '' } })).length;

  it(`encodes an event of exactly ${eventBytesMax} bytes and refuses one byte more`, () => {
    const atLimit = createEvent(blob, {
      ...envelope,
      data: { id: 'b', body: 'x'.repeat(eventBytesMax - overhead) },
    });
    expect(codec.encodeEvent(atLimit).length).toBe(eventBytesMax);
    const over = createEvent(blob, {
      ...envelope,
      data: { id: 'b', body: 'x'.repeat(eventBytesMax - overhead + 1) },
    });
    expect(() => codec.encodeEvent(over)).toThrow(EventTooLargeError);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const chars = Math.floor((eventBytesMax - overhead) / 3) + 1;
    const cjk = createEvent(blob, { ...envelope, data: { id: 'b', body: '内'.repeat(chars) } });
    expect(() => codec.encodeEvent(cjk)).toThrow(/above the limit/);
  });
});

// Keeps the type import used when narrowing fails to compile.
export type { AnyEvent };

describe('load-time wire-shape check', () => {
  const withData = (data: z.ZodType) =>
    defineEvent({
      type: 'ShapeTested',
      version: 1,
      context: 'audit',
      entity: 'shape',
      description: 'test',
      data,
      entityId: () => 'x',
    });

  it('refuses payloads that cannot be encoded canonically, naming the field', () => {
    const cases: [z.ZodType, RegExp][] = [
      [z.object({ ratio: z.number() }), /\/ratio: numbers must be integers/],
      [z.object({ at: z.date() }), /\/at: a date has no canonical JSON form/],
      [z.object({ n: z.string().transform((s) => s.length) }), /\/n: a one-way transform/],
      [z.object({ n: z.preprocess((x) => x, z.string()) }), /\/n: a one-way transform/],
      [z.object({ rows: z.array(z.object({ amount: z.bigint() })) }), /\/rows\/\*\/amount: a bigint/],
      [z.object({ tags: z.set(z.string()) }), /\/tags: a set/],
      [
        z.object({ inner: z.lazy(() => z.object({ x: z.number().optional() })) }),
        /\/inner\/x: numbers must be integers/,
      ],
      [z.object({ byKey: z.record(z.string(), z.number()) }), /\/byKey\/\*: numbers must be integers/],
    ];
    for (const [data, message] of cases) {
      expect(() => buildCatalog([withData(data)])).toThrow(message);
    }
  });

  it('accepts integers, codecs whose code side is bigint, and JSON-only shapes', () => {
    const data = z.object({
      count: z.int(),
      rows: z.number().int().nullable(),
      amountFen: fenSchema,
      amounts: z.array(z.object({ amountFen: fenSchema.optional() })),
      kind: z.discriminatedUnion('k', [
        z.object({ k: z.literal('a') }),
        z.object({ k: z.literal('b'), n: z.int() }),
      ]),
      flag: z.boolean(),
    });
    expect(() => buildCatalog([withData(data)])).not.toThrow();
  });

  it('passes for every definition of the product catalogue', () => {
    for (const definition of catalog.definitions)
      expect(wireShapeProblems(definition.data), definition.type).toEqual([]);
  });
});

describe('ledger naming shared by writer and readers', () => {
  it('derives a roster row’s payment id as ledger-api and the settlements import both use it', () => {
    expect(ledger.rosterPaymentId('RS-dibao-2024-06-1a2b', 2)).toBe('RS-dibao-2024-06-1a2b-r2');
  });

  it('names every 资金来源 code, and shows an unknown code as it is', () => {
    for (const code of ledger.fundSources) expect(ledger.fundSourceLabel(code)).not.toBe(code);
    expect(ledger.fundSourceLabel('integrated')).toBe('统筹整合涉农资金');
    expect(ledger.fundSourceLabel('lottery')).toBe('lottery');
  });
});
