import { createEvent, encodeEvent, ledger, newEventId, utcTimestamp } from '@fundtrace/events';

/**
 * A real stream of ledger events as the log-keeper sees them: household
 * payments (PaymentInstructed) of 内乡县 411325, encoded canonically by
 * @fundtrace/events, with amounts in fen.
 */
export function paymentEvents(count: number, baseAmountFen = 2_000_00n) {
  const start = Date.UTC(2024, 2, 1);
  return Array.from({ length: count }, (_, i) =>
    createEvent(ledger.PaymentInstructed, {
      id: newEventId(start + i, new Uint8Array(16).fill(i % 256)),
      partition: '411325',
      occurredAt: '2024-03-01T09:00:00+08:00',
      recordedAt: utcTimestamp(start + i),
      actor: { userId: 'clerk-7', role: 'finance', org: '内乡县财政局' },
      commandId: `roster-2024-03:${i}`,
      correlationId: 'roster-2024-03',
      data: {
        paymentId: `pay-${i}`,
        rosterId: 'roster-2024-03',
        row: i + 2,
        householdId: `hh-${1000 + i}`,
        programmeCode: 'dibao',
        period: '2024-03',
        quantity: 1,
        amountFen: baseAmountFen + BigInt(i),
        accountId: 'pool-411325',
        noticeId: 'notice-2024-02',
        acceptanceRef: null,
        registrySeq: 40,
        consumed: [{ trancheId: 'tr-central-2024-1', amountFen: baseAmountFen + BigInt(i) }],
      },
    }),
  );
}

export const encode = encodeEvent;
