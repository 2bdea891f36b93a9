/**
 * Measures projection throughput on the realistic event mix against the naive pipeline in the
 * same run (durable pull → one multi-row INSERT of the raw batch → ack), and a rebuild.
 * Usage: node --import tsx services/projector/bench/throughput.ts [events]
 * Prints figures only; the benchmark suite formalises them (BENCHMARKS.md).
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

const events = Number(process.argv[2] ?? 20_000);
const batchSize = 500;
const nc = await connectTestNats('projector-bench');
const ns = testNamespace();
const database = await createTestDatabase();
const log = new LogWriter(nc, ns);
const queued = writeLoad(log, events);
const tails = await log.flush();
const total = [...tails.values()].reduce((a, b) => a + b, 0);
console.log(`appended ${queued} events in ${tails.size} streams`);

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

// The projector, live from sequence 1.
await migrateToLatest(database.db, { schema: 'books' });
const booksDb = createDb<Database>(database.url, { schema: 'books' });
started = Date.now();
const projector = startProjector({ nc, db: booksDb, schema: 'books', ns, batchSize });
await projector.discover();
await untilApplied(database.db, 'books', durableFor('books'));
const projectorMs = Date.now() - started;
await projector.stop();
await booksDb.destroy();

// A rebuild (replay) into a fresh schema.
const rebuild = await rebuildBooks({ url: database.url, nc, ns, schema: 'rebuilt', batchSize });

const rate = (ms: number) => Math.round((total / ms) * 1000);
console.log(`naive pipeline : ${total} events in ${naiveMs} ms = ${rate(naiveMs)} events/s`);
console.log(
  `projector      : ${total} events in ${projectorMs} ms = ${rate(projectorMs)} events/s (${((naiveMs / projectorMs) * 100).toFixed(0)}% of naive)`,
);
console.log(
  `rebuild        : ${rebuild.applied} events in ${rebuild.elapsedMs} ms = ${rate(rebuild.elapsedMs)} events/s`,
);

await deleteNamespaceStreams(await jetstreamManager(nc), ns);
await nc.close();
await database.drop();
