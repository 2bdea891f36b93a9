/**
 * Measures projection throughput on the realistic event mix against the naive pipeline in the
 * same run (durable pull → one multi-row INSERT of the raw batch → ack), and a rebuild.
 * Usage: node --import tsx services/projector/bench/throughput.ts [events] [--rebuild-only]
 * Prints figures only; the benchmark suite formalises them (BENCHMARKS.md).
 *
 * The log is complete before the projector starts, so the "projector" phase and the rebuild do
 * the same work (both project from sequence 1 into a fresh schema); --rebuild-only skips the
 * first, which halves a 1,000,000-event run (node --max-old-space-size=8192 for that size: the
 * load is built in memory before it is appended).
 */
import { durableFor, rebuildBooks, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { runProjection } from '@fundtrace/eventlog';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  testNamespace,
} from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';
import { writeLoad } from '../test/support/load';
import { LogWriter } from '../test/support/log-writer';

const events = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 20_000);
const rebuildOnly = process.argv.includes('--rebuild-only');
const batchSize = 500;
const ns = testNamespace();
// The load is built before connecting: at 1M events that is minutes of synchronous work, during
// which a connection would miss its pings.
const log = new LogWriter(undefined, ns);
const queued = writeLoad(log, events);
const nc = await connectTestNats('projector-bench');
const database = await createTestDatabase();
const tails = await log.connect(nc).flush();
const total = [...tails.values()].reduce((a, b) => a + b, 0);
const { loadavg: loadAtStart } = await import('node:os');
console.log(
  `appended ${queued} events in ${tails.size} streams; load average ${loadAtStart()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);

async function untilApplied(db: typeof database.db, schema: string, consumer: string): Promise<void> {
  for (;;) {
    const { rows } = await sql<{ n: string | null }>`
      select sum(last_seq)::text as n from ${sql.table(`${schema}.projection_checkpoints`)} where consumer = ${consumer}`.execute(
      db,
    );
    if (Number(rows[0]?.n ?? 0) >= total) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Naive pipeline: every stream, pull 500, one INSERT of raw rows, checkpoint, ack.
await migrateToLatest(database.db, { schema: 'naive' });
const naiveDb = createDb<Database>(database.url, { schema: 'naive' });
await sql`create table naive.raw_events (stream text, seq bigint, subject text, bytes bytea, primary key (stream, seq))`.execute(
  naiveDb,
);
let started = Date.now();
const runners = [...tails.keys()].map((stream) =>
  runProjection<Database>({
    nc,
    db: naiveDb,
    stream,
    durable: 'naive',
    batchSize,
    handler: async (trx, batch) => {
      await sql`insert into raw_events (stream, seq, subject, bytes) values ${sql.join(
        batch.map((e) => sql`(${e.stream}, ${e.seq}, ${e.subject}, ${Buffer.from(e.bytes)})`),
      )}`.execute(trx);
    },
  }),
);
await untilApplied(database.db, 'naive', 'naive');
const naiveMs = Date.now() - started;
await Promise.all(runners.map((r) => r.stop()));
await naiveDb.destroy();

// The projector from sequence 1, as the service runs it.
let projectorMs = 0;
if (!rebuildOnly) {
  await migrateToLatest(database.db, { schema: 'books' });
  const booksDb = createDb<Database>(database.url, { schema: 'books' });
  started = Date.now();
  const projector = startProjector({ nc, db: booksDb, schema: 'books', ns, batchSize });
  await projector.discover();
  await untilApplied(database.db, 'books', durableFor('books'));
  projectorMs = Date.now() - started;
  await projector.stop();
  await booksDb.destroy();
}

// A rebuild (replay) into a fresh schema.
const rebuild = await rebuildBooks({ url: database.url, nc, ns, schema: 'rebuilt', batchSize });

const rate = (ms: number) => Math.round((total / ms) * 1000);
console.log(`naive pipeline : ${total} events in ${naiveMs} ms = ${rate(naiveMs)} events/s`);
if (!rebuildOnly)
  console.log(
    `projector      : ${total} events in ${projectorMs} ms = ${rate(projectorMs)} events/s (${((naiveMs / projectorMs) * 100).toFixed(0)}% of naive)`,
  );
console.log(
  `rebuild        : ${rebuild.applied} events in ${rebuild.elapsedMs} ms = ${rate(rebuild.elapsedMs)} events/s (${((naiveMs / rebuild.elapsedMs) * 100).toFixed(0)}% of naive)`,
);
const { loadavg } = await import('node:os');
console.log(
  `load average at the end: ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);

await deleteNamespaceStreams(await jetstreamManager(nc), ns);
await nc.close();
await database.drop();
