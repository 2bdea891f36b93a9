import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnyEvent,
  audit,
  canonicalBytes,
  createEvent,
  decodeEvent,
  EventDecodeError,
  EventSchemaError,
  encodeEvent,
  eventBytesMax,
  leafHash,
  subjectFor,
} from '../src';
import {
  envelopeArb,
  envelopeInput,
  findingRaisedArb,
  findingRaisedData,
  findingRectifiedArb,
  findingReviewedArb,
  storedBytes,
} from './fixtures';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function decodeError(bytes: Uint8Array): EventDecodeError {
  try {
    decodeEvent(bytes);
  } catch (error) {
    if (error instanceof EventDecodeError) return error;
    throw error;
  }
  throw new Error('expected an EventDecodeError');
}

const raised = () => createEvent(audit.findingRaised, envelopeInput(findingRaisedData()));

/** The stored form of `raised()`, as a plain object to tamper with. */
const wireOf = (event: AnyEvent) => JSON.parse(text(encodeEvent(event))) as Record<string, unknown>;

describe('encodeEvent', () => {
  it('writes canonical JSON: sorted keys, money as digit strings, no whitespace', () => {
    const bytes = encodeEvent(raised());
    const json = text(bytes);
    expect(
      json.startsWith('{"actor":{"org":"内乡县纪委监委","role":"inspector","userId":"u-1001"},"commandId":'),
    ).toBe(true);
    expect(json).toContain('"amounts":[{"amountFen":"800000","label":"paid_twice"}]');
    expect(json).not.toMatch(/\s(?=(?:[^"]*"[^"]*")*[^"]*$)/); // no whitespace outside strings
    expect(bytes).toEqual(canonicalBytes(JSON.parse(json)));
  });

  it('never encodes an event that fails its schema', () => {
    const event = raised();
    const tampered = { ...event, data: { ...event.data, severity: 'extreme' } } as unknown as AnyEvent;
    expect(() => encodeEvent(tampered)).toThrow(EventSchemaError);
    const floatMoney = { ...event, data: { ...event.data, amounts: [{ label: 'x', amountFen: 1.5 }] } };
    expect(() => encodeEvent(floatMoney as unknown as AnyEvent)).toThrow(/\/data\/amounts\/0\/amountFen/);
    const badEnvelope = { ...event, recordedAt: 'yesterday' } as AnyEvent;
    expect(() => encodeEvent(badEnvelope)).toThrow(/\/recordedAt/);
  });

  it('refuses a type or version missing from the catalogue, and superseded versions unless allowed', () => {
    const event = raised();
    expect(() => encodeEvent({ ...event, type: 'FindingInvented' } as unknown as AnyEvent)).toThrow(
      /FindingInvented v1 is not in the catalogue/,
    );
    expect(() => encodeEvent({ ...event, version: 2 } as unknown as AnyEvent)).toThrow(
      /not in the catalogue/,
    );
    const v1 = createEvent(audit.findingReviewedV1, envelopeInput({ findingId: 'F-1', note: '核实中' }));
    expect(() => encodeEvent(v1)).toThrow(/superseded by v2/);
    expect(() => encodeEvent(v1, { allowSuperseded: true })).not.toThrow();
  });

  it(`keeps a finding at its largest allowed size below ${eventBytesMax} bytes`, () => {
    // The audit limits (1,000 evidence refs, 100 subjects, 500-character summary) must fit in one message.
    const evidence = Array.from({ length: 1_000 }, (_, i) => ({
      stream: 'REGISTRY_411325',
      seq: Number.MAX_SAFE_INTEGER - i,
      type: 'HouseholdBankAccountChanged',
    }));
    const subjects = Array.from({ length: 100 }, (_, i) => ({
      context: 'registry' as const,
      partition: '411325',
      entity: 'household',
      id: `${'h'.repeat(125)}${String(i).padStart(3, '0')}`,
    }));
    const amounts = Array.from({ length: 20 }, (_, i) => ({ label: `amount_${i}`, amountFen: 10n ** 15n }));
    const largest = createEvent(
      audit.findingRaised,
      envelopeInput({ ...findingRaisedData(), subjects, evidence, amounts, summary: '滞'.repeat(500) }),
    );
    expect(encodeEvent(largest).length).toBeLessThan(eventBytesMax);
  });

  it('is deterministic and independent of key insertion order (property)', () => {
    fc.assert(
      fc.property(envelopeArb, findingRaisedArb, (envelope, data) => {
        const event = createEvent(audit.findingRaised, { ...envelope, data });
        const reordered = Object.fromEntries(Object.entries(event).reverse()) as AnyEvent;
        expect(encodeEvent(reordered)).toEqual(encodeEvent(event));
        expect(encodeEvent(event)).toEqual(
          encodeEvent(createEvent(audit.findingRaised, { ...envelope, data })),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe('decodeEvent', () => {
  it('returns exactly the event that was encoded (property, several types)', () => {
    fc.assert(
      fc.property(
        envelopeArb,
        fc.oneof(
          findingRaisedArb.map((data) => [audit.findingRaised, data] as const),
          findingReviewedArb.map((data) => [audit.findingReviewed, data] as const),
          findingRectifiedArb.map((data) => [audit.findingRectified, data] as const),
        ),
        (envelope, [definition, data]) => {
          const event = createEvent(definition as typeof audit.findingRaised, {
            ...envelope,
            data: data as never,
          });
          const bytes = encodeEvent(event);
          const decoded = decodeEvent(bytes);
          expect(decoded).toStrictEqual(event);
          expect(encodeEvent(decoded)).toEqual(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps bigint money exact up to fenMax', () => {
    const event = createEvent(
      audit.findingRaised,
      envelopeInput({
        ...findingRaisedData(),
        amounts: [
          { label: 'max', amountFen: 10n ** 15n },
          { label: 'zero', amountFen: 0n },
        ],
      }),
    );
    const decoded = decodeEvent(encodeEvent(event));
    expect(decoded.type === 'FindingRaised' && decoded.data.amounts.map((a) => a.amountFen)).toEqual([
      10n ** 15n,
      0n,
    ]);
  });

  it('narrows on type', () => {
    const decoded = decodeEvent(encodeEvent(raised()));
    switch (decoded.type) {
      case 'FindingRaised':
        expect(decoded.data.ruleId).toBe('duplicate_payment');
        break;
      default:
        throw new Error(`unexpected ${decoded.type}`);
    }
  });

  describe('malformed_json', () => {
    const good = () => text(encodeEvent(raised()));
    it.each([
      ['empty bytes', ''],
      ['truncated JSON', '{"actor":'],
      ['not JSON', 'hello'],
      ['pretty-printed JSON', () => JSON.stringify(JSON.parse(good()), null, 2)],
      [
        'keys out of order',
        () => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(good())).reverse())),
      ],
      [
        'a duplicated key',
        () => good().replace('{"actor":', '{"actor":{"org":"x","role":"public","userId":"y"},"actor":'),
      ],
    ])('%s', (_what, input) => {
      const source = typeof input === 'function' ? input() : input;
      const error = decodeError(new TextEncoder().encode(source));
      expect(error.reason).toBe('malformed_json');
      expect(error.message).toContain('malformed_json');
    });
    it('invalid UTF-8', () => {
      expect(decodeError(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])).reason).toBe('malformed_json');
    });
  });

  describe('unknown_type', () => {
    it('a type no release defined', () => {
      const error = decodeError(storedBytes({ ...wireOf(raised()), type: 'FundsVanished' }));
      expect(error.reason).toBe('unknown_type');
      expect(error.detail).toContain('FundsVanished');
    });
    it('a version newer than this release knows', () => {
      const error = decodeError(storedBytes({ ...wireOf(raised()), version: 7 }));
      expect(error.reason).toBe('unknown_type');
      expect(error.detail).toMatch(/FindingRaised v7 .*latest known is v1/);
    });
  });

  describe('schema_mismatch', () => {
    it.each([
      ['a JSON array instead of an object', () => []],
      ['a string', () => 'event'],
      ['a missing envelope field', () => ({ ...wireOf(raised()), commandId: undefined })],
      ['an unknown envelope field', () => ({ ...wireOf(raised()), signature: 'x' })],
      ['a bad partition', () => ({ ...wireOf(raised()), partition: '999999' })],
      ['money as a JSON number', () => withData({ amounts: [{ label: 'paid', amountFen: 800000 }] })],
      ['negative money', () => withData({ amounts: [{ label: 'paid', amountFen: '-1' }] })],
      ['money with leading zeros', () => withData({ amounts: [{ label: 'paid', amountFen: '0800' }] })],
      ['a missing payload field', () => withData({ summary: undefined })],
      ['an unknown payload field', () => withData({ amountYuan: '8000' })],
      ['no evidence', () => withData({ evidence: [] })],
      [
        'namespaced evidence stream',
        () => withData({ evidence: [{ stream: 't1_LEDGER_411325', seq: 1, type: 'X' }] }),
      ],
    ])('%s', (_what, build) => {
      const error = decodeError(storedBytes(dropUndefined(build()) as Record<string, unknown>));
      expect(error.reason).toBe('schema_mismatch');
      expect(error.issues.length).toBeGreaterThan(0);
    });
    it('names the failing payload path', () => {
      const error = decodeError(storedBytes(withData({ ruleVersion: 0 })));
      expect(error.detail).toBe('FindingRaised v1 payload');
      expect(error.issues.map((issue) => issue.path)).toEqual(['/data/ruleVersion']);
    });
  });
});

function withData(patch: Record<string, unknown>): Record<string, unknown> {
  const wire = wireOf(raised());
  return { ...wire, data: dropUndefined({ ...(wire.data as object), ...patch }) };
}

function dropUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

describe('leafHash', () => {
  it('is SHA-256(0x00 ‖ bytes), as RFC 6962 §2.1 defines a leaf', () => {
    // RFC 6962 test vector: the hash of an empty leaf.
    expect(Buffer.from(leafHash(new Uint8Array())).toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const bytes = encodeEvent(raised());
    const expected = createHash('sha256')
      .update(Buffer.from([0]))
      .update(bytes)
      .digest();
    expect(Buffer.from(leafHash(bytes))).toEqual(expected);
    expect(Buffer.from(leafHash(bytes))).not.toEqual(createHash('sha256').update(bytes).digest());
    expect(leafHash(bytes)).toHaveLength(32);
  });
});

describe('subjectFor', () => {
  it('derives the subject from the definition and payload, with and without namespace', () => {
    const event = raised();
    expect(subjectFor(event)).toBe('audit.411325.finding.F-2019-0001');
    expect(subjectFor(event, 't_events_1')).toBe('t_events_1.audit.411325.finding.F-2019-0001');
  });
});
