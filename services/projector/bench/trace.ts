/**
 * Trace latency with a million payments in the books (issue 5: "tracing one household with 20
 * payments up to its root allocations, with 1,000,000 payments in the books: p99 ≤ 5 ms").
 *
 * The books are filled through the projector's own code path, `projectBatch`, in batches of one
 * stream's contiguous events inside a transaction, exactly as the runner calls it (without NATS:
 * a million events through JetStream on this shared machine takes longer than the session, and
 * the trace reads only PostgreSQL). Events are built with the real envelope and encoder, so
 * `events.data`, leaf hashes and every invariant are checked as in production.
 *
 * Money flows central (000000) → province (410000) → city (411300) → county (411325) once per
 * allocation round; each round the county pays a roster of `paymentsPerRound` households from
 * that round's tranche. Households are paid every `households / paymentsPerRound` rounds, so with
 * the defaults each of 50,000 households ends with 20 payments, each tracing through 4 partitions.
 *
 * Usage: node --import tsx services/projector/bench/trace.ts [payments=1000000] [samples=500]
 *        [--keep] (keeps the database and prints its URL, to EXPLAIN by hand)
 *        [--reuse=<database url>] (measures books kept by --keep, migrated to the latest first)
 */
import { performance } from 'node:perf_hooks';
import { projectBatch, type StoredEvent, traceHouseholdUp } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import {
  type Actor,
  type AnyEvent,
  createEvent,
  type EventData,
  type EventType,
  encodeEvent,
  latestDefinition,
  newEventId,
  streamName,
  subjectFor,
  utcTimestamp,
} from '@fundtrace/events';
import { createTestDatabase } from '@fundtrace/testkit';
import { sql } from 'kysely';

const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const keep = process.argv.includes('--keep');
const reuse = process.argv.find((arg) => arg.startsWith('--reuse='))?.slice('--reuse='.length);
const paymentsTotal = Number(args[0] ?? 1_000_000);
const samples = Number(args[1] ?? 500);
/** Payments per household: the figure. */
const paymentsPerHousehold = 20;
/** One roster per round; 1,000 rows is a township's monthly 低保 roster. */
const paymentsPerRound = Math.min(1_000, paymentsTotal / paymentsPerHousehold);
const households = paymentsTotal / paymentsPerHousehold;
const rounds = paymentsTotal / paymentsPerRound;
/** Events per projectBatch call: the projector's batch size. */
const batchEvents = 500;

const [central, province, city, county] = ['000000', '410000', '411300', '411325'] as const;
const chain = [central, province, city, county] as const;
const purpose = 'poverty_alleviation';
const actor: Actor = { userId: 'clerk-01', role: 'finance', org: '财政局' };

const database =
  reuse === undefined
    ? await createTestDatabase({ migrate: false })
    : { url: reuse, db: createDb<Database>(reuse), drop: async () => undefined };
await migrateToLatest(database.db, { schema: 'books' });
const db = createDb<Database>(database.url, { schema: 'books', max: 4 });

/** Per stream: the next sequence and the events waiting for their batch. */
const pending = new Map<string, StoredEvent[]>();
const nextSeq = new Map<string, number>();
let counter = 0;
let projected = 0;

function add<T extends EventType>(partition: string, type: T, data: EventData<T>, day: string): void {
  const definition = latestDefinition(type);
  const now = Date.now();
  const commandId = `bench-${counter++}`;
  const event = createEvent(definition as never, {
    id: newEventId(now),
    partition,
    data,
    actor,
    commandId,
    correlationId: commandId,
    occurredAt: `${day}T10:00:00+08:00`,
    recordedAt: utcTimestamp(now),
  }) as AnyEvent;
  const stream = streamName(definition.context, partition);
  const seq = nextSeq.get(stream) ?? 1;
  nextSeq.set(stream, seq + 1);
  const list = pending.get(stream) ?? [];
  list.push({ stream, seq, subject: subjectFor(event as never), bytes: encodeEvent(event as never), event });
  pending.set(stream, list);
}

/** Projects every stream's waiting events, one transaction per batch, as the runner does. */
async function flush(): Promise<void> {
  for (const [stream, events] of pending) {
    for (let start = 0; start < events.length; start += batchEvents) {
      const batch = events.slice(start, start + batchEvents);
      await db.transaction().execute((trx) => projectBatch(trx, batch));
      projected += batch.length;
    }
    pending.delete(stream);
  }
}

function dayOf(round: number): string {
  return new Date(Date.UTC(2019, 0, 1) + (round % 365) * 86_400_000).toISOString().slice(0, 10);
}

const fillStarted = performance.now();
for (const partition of reuse === undefined ? chain : []) {
  add(partition, 'AccountOpened', { accountId: 'pool', kind: 'pool', name: `${partition} 专户` }, dayOf(0));
}
const amountFen = 1_000_000_000n; // 1,000 万元 per round, far more than a roster takes
for (let round = 0; round < (reuse === undefined ? rounds : 0); round++) {
  const day = dayOf(round);
  const doc = `财农〔2019〕${round + 1}号`;
  const common = { documentNumber: doc, fundSource: 'central', purpose, fiscalYear: 2019 } as const;
  // The root: money enters at the centre, then travels down the chain one partition at a time.
  add(
    central,
    'AllocationReceived',
    {
      receiptId: `r${round}`,
      origin: { kind: 'external', payer: '财政部' },
      accountId: 'pool',
      ...common,
      amountFen,
      created: [{ trancheId: `t${round}`, accountId: 'pool', amountFen, ...common, parents: [] }],
    },
    day,
  );
  for (let level = 1; level < chain.length; level++) {
    const from = chain[level - 1]!;
    const to = chain[level]!;
    add(
      from,
      'AllocationIssued',
      {
        allocationId: `a${round}`,
        toPartition: to,
        fromAccountId: 'pool',
        ...common,
        title: `第${round + 1}批`,
        amountFen,
        consumed: [{ trancheId: `t${round}`, amountFen, fundSource: 'central' }],
      },
      day,
    );
    add(
      to,
      'AllocationReceived',
      {
        receiptId: `r${round}`,
        origin: { kind: 'partition', partition: from, allocationId: `a${round}` },
        accountId: 'pool',
        ...common,
        amountFen,
        created: [
          {
            trancheId: `t${round}`,
            accountId: 'pool',
            amountFen,
            ...common,
            parents: [{ partition: from, trancheId: `t${round}`, amountFen }],
          },
        ],
      },
      day,
    );
  }
  const period = `2019-${String(1 + (round % 12)).padStart(2, '0')}`;
  const amounts = Array.from({ length: paymentsPerRound }, (_, i) => 30_000n + BigInt((i % 9) * 1_000));
  add(
    county,
    'RosterSubmitted',
    {
      rosterId: `ros${round}`,
      programmeCode: 'minimum_living',
      period,
      accountId: 'pool',
      noticeId: null,
      rowCount: paymentsPerRound,
      totalFen: amounts.reduce((a, b) => a + b, 0n),
      registrySeq: 1,
    },
    day,
  );
  amounts.forEach((paid, i) => {
    const household = (round * paymentsPerRound + i) % households;
    add(
      county,
      'PaymentInstructed',
      {
        paymentId: `p${round}-${i}`,
        rosterId: `ros${round}`,
        row: i + 2,
        householdId: `H${String(household).padStart(6, '0')}`,
        programmeCode: 'minimum_living',
        period,
        quantity: 1,
        amountFen: paid,
        accountId: 'pool',
        noticeId: null,
        acceptanceRef: null,
        registrySeq: 1,
        consumed: [{ trancheId: `t${round}`, amountFen: paid }],
      },
      day,
    );
  });
  await flush();
  if (round % 50 === 49) {
    const seconds = (performance.now() - fillStarted) / 1000;
    console.log(
      `  ${(round + 1) * paymentsPerRound} payments, ${projected} events in ${seconds.toFixed(0)} s (${Math.round(projected / seconds)} ev/s)`,
    );
  }
}
const fillMs = performance.now() - fillStarted;
await sql`analyze`.execute(db);
const { rows: counts } = await sql<{ payments: string; flows: string; events: string }>`
  select (select count(*) from payments)::text as payments, (select count(*) from tranche_flows)::text as flows,
         (select count(*) from events)::text as events`.execute(db);
console.log(
  `books: ${counts[0]!.payments} payments, ${counts[0]!.flows} tranche flows, ${counts[0]!.events} events; ` +
    `filled through projectBatch in ${(fillMs / 1000).toFixed(0)} s (${Math.round(projected / (fillMs / 1000))} events/s)`,
);

// Households chosen at random (seeded, so runs compare), each traced once after a warm-up.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const householdId = () => `H${String(Math.floor(random() * households)).padStart(6, '0')}`;
for (let i = 0; i < 50; i++) await traceHouseholdUp(db, county, householdId());
const latencies: number[] = [];
let hops = 0;
for (let i = 0; i < samples; i++) {
  const id = householdId();
  const started = performance.now();
  const traces = await traceHouseholdUp(db, county, id);
  latencies.push(performance.now() - started);
  if (traces.length !== paymentsPerHousehold) throw new Error(`${id} has ${traces.length} payments`);
  for (const trace of traces) {
    if (trace.roots.length !== 1 || trace.roots[0]!.tracedFen !== trace.amountFen)
      throw new Error(`${trace.paymentId} does not trace its ${trace.amountFen} fen to one root`);
    hops += trace.hops.length;
  }
}
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!;
const { loadavg } = await import('node:os');
console.log(
  `trace household → roots (${paymentsPerHousehold} payments, ${hops / samples} hops each trace, ${samples} samples): ` +
    `p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${at(1).toFixed(2)} ms; ` +
    `load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
);

if (keep || reuse !== undefined) {
  console.log(`kept: ${database.url} (schema books)`);
  await db.destroy();
  await database.db.destroy();
} else {
  await db.destroy();
  await database.drop();
}
