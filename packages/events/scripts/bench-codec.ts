// Measures the cost of the event codec on this machine: createEvent (validate +
// normalise), encodeEvent (validate + canonical bytes), decodeEvent (canonical
// check + validate + decode), leafHash. Run: pnpm --filter @fundtrace/events run bench
// Numbers are printed, never asserted (tests do not assert timings).
import { createEvent, decodeEvent, encodeEvent, leafHash, ledger, newEventId } from '../src';

/** Enough iterations for a stable rate on a shared 2-core machine, few enough to finish in seconds. */
const iterations = 20_000;

const actor = { userId: 'u-finance-1', role: 'finance', org: '内乡县财政局' } as const;

function payment(index: number) {
  return createEvent(ledger.PaymentInstructed, {
    id: newEventId(1_700_000_000_000 + index),
    partition: '411325',
    occurredAt: '2019-07-01T09:00:00+08:00',
    recordedAt: '2019-07-01T01:00:00.000Z',
    actor,
    commandId: 'cmd-roster-2019-07',
    correlationId: 'roster-2019-07',
    data: {
      paymentId: `pay-${index}`,
      rosterId: 'roster-2019-07',
      row: index + 1,
      householdId: `4113251002010${index}`,
      programmeCode: 'dibao',
      period: '2019-07',
      quantity: 3,
      amountFen: 57_000n,
      accountId: 'pool-411325',
      noticeId: 'notice-2019-06',
      acceptanceRef: null,
      registrySeq: 1_234,
      consumed: [
        { trancheId: 'rcv_alloc-2019-01_0', amountFen: 40_000n },
        { trancheId: 'rcv_alloc-2019-02_0', amountFen: 17_000n },
      ],
    },
  });
}

function measure(name: string, run: (index: number) => unknown): void {
  for (let i = 0; i < 1_000; i++) run(i); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run(i);
  const ns = Number(process.hrtime.bigint() - start);
  console.log(
    `${name.padEnd(14)} ${((iterations * 1e9) / ns).toFixed(0).padStart(8)} /s  ${(ns / iterations / 1000).toFixed(1)} µs each`,
  );
}

const events = Array.from({ length: iterations }, (_, i) => payment(i));
const encoded = events.map((event) => encodeEvent(event));
console.log(`PaymentInstructed, ${encoded[0]!.length} bytes, ${iterations} iterations`);
measure('createEvent', (i) => payment(i));
measure('encodeEvent', (i) => encodeEvent(events[i % iterations]!));
measure('decodeEvent', (i) => decodeEvent(encoded[i % iterations]!));
measure('leafHash', (i) => leafHash(encoded[i % iterations]!));
