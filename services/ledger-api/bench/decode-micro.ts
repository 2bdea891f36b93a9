import { decodeEvent, encodeEvent, parseCanonical } from '@fundtrace/events';

const env = {
  id: '01936d6e-8c00-7000-8000-000000000000',
  type: 'PaymentInstructed',
  version: 1,
  partition: '411325',
  occurredAt: '2024-12-20T00:00:00.000Z',
  recordedAt: '2024-12-20T00:00:00.000Z',
  actor: { userId: 'b', role: 'finance', org: 'b' },
  commandId: 'c1',
  correlationId: 'c1',
  data: {
    paymentId: 'RS1-0-r2',
    rosterId: 'RS1-0',
    row: 2,
    householdId: 'H0',
    programmeCode: 'dibao_class1',
    period: '2024-01',
    quantity: 1,
    amountFen: 19000n,
    accountId: 'POOL',
    noticeId: 'N1',
    acceptanceRef: null,
    registrySeq: 1,
    consumed: [{ trancheId: 'rc_R1_1', amountFen: 19000n }],
  },
};
const bytes = encodeEvent(env as never);
for (const [name, f] of [
  ['JSON.parse', () => JSON.parse(new TextDecoder().decode(bytes))],
  ['parseCanonical', () => parseCanonical(bytes)],
  ['decodeEvent', () => decodeEvent(bytes)],
] as const) {
  for (let r = 0; r < 2; r++) {
    const t = performance.now();
    for (let i = 0; i < 20000; i++) f();
    console.log(name, (((performance.now() - t) / 20000) * 1000).toFixed(1), 'µs');
  }
}
