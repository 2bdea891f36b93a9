import fc from 'fast-check';
import { type Actor, audit, type CreateEventInput, canonicalBytes, newEventId } from '../src';

export const inspector: Actor = { userId: 'u-1001', role: 'inspector', org: '内乡县纪委监委' };

/** A valid FindingRaised payload; tests change one field at a time. */
export function findingRaisedData() {
  return {
    findingId: 'F-2019-0001',
    ruleId: 'duplicate_payment',
    ruleVersion: 2,
    severity: 'high' as const,
    subjects: [{ context: 'registry' as const, partition: '411325', entity: 'household', id: '4113250001' }],
    evidence: [
      { stream: 'LEDGER_411325', seq: 120, type: 'PaymentInstructed' },
      { stream: 'LEDGER_411325', seq: 121, type: 'PaymentInstructed' },
    ],
    amounts: [{ label: 'paid_twice', amountFen: 800_000n }],
    summary: '同一户同一期危房改造补助发放两次',
  };
}

export type EnvelopeOverrides = Partial<Omit<CreateEventInput<unknown>, 'data'>>;

export function envelopeInput<TData>(
  data: TData,
  overrides: EnvelopeOverrides = {},
): CreateEventInput<TData> {
  return {
    id: newEventId(Date.UTC(2019, 4, 6, 1, 2, 3), new Uint8Array(16).fill(7)),
    partition: '411325',
    occurredAt: '2019-05-06T09:02:03+08:00',
    recordedAt: '2019-05-06T01:02:04.000Z',
    actor: inspector,
    commandId: 'cmd-raise-0001',
    correlationId: 'corr-rules-2019-05-06',
    data,
    ...overrides,
  };
}

/** Stored bytes of an event at any version, written the way an older release would have. */
export function storedBytes(fields: Record<string, unknown>): Uint8Array {
  return canonicalBytes(fields);
}

// ── Arbitraries for property tests ──

const token = (max: number) =>
  fc.stringMatching(/^[A-Za-z0-9_-]+$/).filter((s) => s.length >= 1 && s.length <= max);
const clientId = fc.stringMatching(/^[A-Za-z0-9._:-]+$/).filter((s) => s.length >= 1 && s.length <= 128);
/** Text with any Unicode (CJK, emoji, combining marks), never blank, no control characters. */
const text = (max: number) =>
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 60) })
    .map((s) => s.replace(/[\p{Cc}]/gu, ''))
    .filter((s) => s.trim() !== '');
const county = fc.constantFrom('411325', '410324', '411221', '430626', '370471', '110101');
const fen = fc.bigInt({ min: 0n, max: 10n ** 15n });

const epochMs = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2099, 11, 31) });

export const actorArb = fc.record({
  userId: text(128)
    .map((s) => s.trim())
    .filter((s) => s !== ''),
  role: fc.constantFrom('finance', 'registry', 'inspector', 'system', 'public') as fc.Arbitrary<
    Actor['role']
  >,
  org: text(200)
    .map((s) => s.trim())
    .filter((s) => s !== ''),
});

export const envelopeArb = fc.record({
  id: fc.tuple(epochMs, fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([ms, r]) => newEventId(ms, r)),
  partition: county,
  occurredAt: fc
    .tuple(epochMs, fc.constantFrom('Z', '+08:00', '-05:30'))
    .map(([ms, zone]) => new Date(ms).toISOString().slice(0, 19) + zone),
  recordedAt: epochMs.map((ms) => new Date(ms).toISOString()),
  actor: actorArb,
  commandId: clientId,
  correlationId: clientId,
  causationId: fc.option(clientId, { nil: undefined }),
});

const entityRef = fc.record({
  context: fc.constantFrom('ledger', 'registry', 'audit') as fc.Arbitrary<'ledger' | 'registry' | 'audit'>,
  partition: county,
  entity: fc.constantFrom('allocation', 'payment', 'household'),
  id: token(40),
});
const eventRef = fc.record({
  stream: county.map((code) => `LEDGER_${code}`),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  type: fc.constantFrom('PaymentInstructed', 'AllocationIssued'),
});

export const findingRaisedArb = fc.record({
  findingId: token(64),
  ruleId: fc.constantFrom('idle_funds', 'duplicate_payment', 'shared_account'),
  ruleVersion: fc.integer({ min: 1, max: 9_999 }),
  severity: fc.constantFrom('low', 'medium', 'high') as fc.Arbitrary<'low' | 'medium' | 'high'>,
  subjects: fc.uniqueArray(entityRef, {
    minLength: 1,
    maxLength: 5,
    selector: (r) => `${r.context}.${r.partition}.${r.entity}.${r.id}`,
  }),
  evidence: fc.uniqueArray(eventRef, { minLength: 1, maxLength: 5, selector: (r) => `${r.stream}#${r.seq}` }),
  amounts: fc.uniqueArray(
    fc.record({ label: fc.constantFrom('paid', 'standard', 'excess', 'idle'), amountFen: fen }),
    {
      maxLength: 4,
      selector: (a) => a.label,
    },
  ),
  summary: text(500),
});

export const findingRectifiedArb = fc.record(
  {
    findingId: token(64),
    recoveredFen: fen,
    documentNumber: text(100),
    note: text(4_000),
  },
  { requiredKeys: ['findingId', 'recoveredFen', 'note'] },
);

export const findingReviewedArb = fc.record({
  findingId: token(64),
  outcome: fc.constantFrom('confirmed', 'dismissed', 'needs_trace') as fc.Arbitrary<
    'confirmed' | 'dismissed' | 'needs_trace'
  >,
  note: text(4_000),
});

export { audit };
