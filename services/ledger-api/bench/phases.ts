// Where the roster path's CPU goes, without NATS: parse, hash, decide, ids, encode, evolve.

import { commandHash, commandHashOfCanonicalData, commandMessages } from '@fundtrace/eventlog';
import {
  canonicalEncoder,
  encodeEvent,
  eventBatchEncoder,
  ledgerEvents,
  utcTimestamp,
} from '@fundtrace/events';
import { z } from 'zod';
import { commandSchemas } from '../src/ledger/commands';
import { decide } from '../src/ledger/decide';
import { evolve } from '../src/ledger/evolve';
import { initialState } from '../src/ledger/state';
import { loadReference } from '../src/reference/programmes';
import { parseRoster } from '../src/routes/commands';

const rows = Number(process.argv[2] ?? 50_000);
const reference = loadReference();
const registry = { seq: 1, household: () => ({ exited: false, accountBound: true }) };
const versions = new Map(ledgerEvents.map((d) => [d.type, d.version]));
const s = initialState('411325');
const ctx = { reference, registry, today: '2024-06-15' };
const ok = (c: Parameters<typeof decide>[1]) => {
  const d = decide(s, c, ctx);
  if (!d.ok) throw new Error(d.code);
  for (const e of d.events) evolve(s, e);
};
ok({ type: 'OpenAccount', data: { accountId: 'POOL', kind: 'pool', name: 'p' } });
ok({
  type: 'ReceiveAllocation',
  data: {
    receiptId: 'R',
    accountId: 'POOL',
    amountFen: BigInt(rows) * 100_000n,
    origin: {
      kind: 'external',
      payer: 'x',
      documentNumber: 'd',
      fundSource: 'county',
      purpose: 'social_assistance',
      fiscalYear: 2024,
    },
  },
});
ok({
  type: 'PublishNotice',
  data: {
    noticeId: 'N1',
    kind: 'programme',
    title: 't',
    stage: 'approval',
    programmeCode: 'dibao_class1',
    period: '2024-06',
    subjectId: null,
    startsOn: '2024-06-01',
    endsOn: '2024-06-07',
  },
});
const body = JSON.stringify({
  commandId: 'c',
  rosterId: 'RS1',
  programmeCode: 'dibao_class1',
  period: '2024-06',
  accountId: 'POOL',
  noticeId: 'N1',
  rows: Array.from({ length: rows }, (_, i) => ({
    row: i + 2,
    householdId: `H${i}`,
    quantity: 2,
    amountFen: '38000',
  })),
});
let t = performance.now();
const lap = (label: string) => {
  const n = performance.now();
  console.log(label.padEnd(10), Math.round(n - t), 'ms');
  t = n;
};
const parsedJson = JSON.parse(body);
lap('json');
const parsed = parseRoster(parsedJson);
if (!parsed.ok) throw new Error('parse');
lap('zod rows');
// As the writer does before deciding: the command's content hash (idempotency).
commandHashOfCanonicalData(
  '411325',
  'SubmitRoster',
  canonicalEncoder(commandSchemas.SubmitRoster)(parsed.data),
  null,
);
lap('hash');
// The same hash the way the writer made it before (z.encode + generic canonical JSON), for the ratio.
commandHash(
  '411325',
  'SubmitRoster',
  z.encode(commandSchemas.SubmitRoster as z.ZodType, parsed.data as never),
  null,
);
lap('hash (old)');
const d = decide(s, { type: 'SubmitRoster', data: parsed.data }, ctx);
if (!d.ok) throw new Error(d.code);
lap('decide');
const actor = { userId: 'u', role: 'finance' as const, org: 'o' };
const now = Date.now();
// As the writer does it (commandMessages, writer.ts messages): one batch encoder per command.
const head = {
  partition: '411325',
  occurredAt: utcTimestamp(now),
  recordedAt: utcTimestamp(now),
  actor,
  commandId: 'c',
  correlationId: 'c',
};
const msgs = commandMessages(eventBatchEncoder(head), d.events, {
  nowMs: now,
  hash: 'h',
  versionOf: (type) => versions.get(type)!,
});
lap('event ids and encode');
// The same events through encodeEvent (what the writer used before the batch encoder), for the ratio.
for (const [i, e] of d.events.entries()) {
  encodeEvent({
    ...head,
    id: msgs[i]!.eventId,
    type: e.type,
    version: versions.get(e.type)!,
    data: e.data,
  } as never);
}
lap('encode (old)');
for (const e of d.events) evolve(s, e);
lap('evolve');
console.log(msgs.length);
console.log(
  'load average',
  (await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' '),
);
