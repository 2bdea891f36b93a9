/**
 * Trace latency with a million payments in the books (issue 5: "tracing one household with 20
 * payments up to its root allocations, with 1,000,000 payments in the books: p99 ≤ 5 ms").
 *
 * The books have the county's shape (packages/bench/src/trace-scale.ts, `countyLog`: two fiscal
 * years, receipts central → province → city → county four times a year drawn FIFO, monthly and
 * yearly rosters, bank returns re-paid the next month; 28–30 payments a household). By default
 * every event goes through the projector's own `projectBatch`, 500 a transaction, exactly as the
 * runner calls it (without NATS: the trace reads only PostgreSQL); `--fast` writes the county's
 * rosters and payments as the projector would leave them (`loadLog`, what `pnpm bench` uses),
 * minutes instead of an hour at 1M payments.
 *
 * Usage: node --import tsx services/projector/bench/trace.ts [payments=1000000] [samples=1000]
 *        [--fast] [--no-analyze] [--keep] (keeps the database and prints its URL, to EXPLAIN by hand)
 *        [--reuse=<database url>] (measures books kept by --keep, migrated to the latest first)
 */
import { performance } from 'node:perf_hooks';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { createTestDatabase } from '@fundtrace/testkit';
import { sql } from 'kysely';
import {
  countyLog,
  householdsFor,
  loadLog,
  logEventsFor,
  measureTraceLatency,
  projectLog,
} from '../../../packages/bench/src/trace-scale';

const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const keep = process.argv.includes('--keep');
const fast = process.argv.includes('--fast');
/** Measures before any ANALYZE: the books as a projector without decision 0055 left them. */
const noAnalyze = process.argv.includes('--no-analyze');
const reuse = process.argv.find((arg) => arg.startsWith('--reuse='))?.slice('--reuse='.length);
const payments = Number(args[0] ?? 1_000_000);
const samples = Number(args[1] ?? 1_000);
const households = householdsFor(payments);

const database =
  reuse === undefined
    ? await createTestDatabase({ migrate: false })
    : { url: reuse, db: createDb<Database>(reuse), drop: async () => undefined };
await migrateToLatest(database.db, { schema: 'books' });
const db = createDb<Database>(database.url, { schema: 'books', max: 4 });

try {
  if (reuse === undefined) {
    const total = logEventsFor(households);
    const started = performance.now();
    let last = 0;
    const progress = (done: number) => {
      if (done - last < 100_000) return;
      last = done;
      const seconds = (performance.now() - started) / 1000;
      console.log(`  ${done} events in ${seconds.toFixed(0)} s (${Math.round(done / seconds)} ev/s)`);
    };
    const log = countyLog({ households });
    const events = fast
      ? await loadLog(db, log, { onProgress: progress, total })
      : await projectLog(db, log, progress, total);
    const seconds = (performance.now() - started) / 1000;
    const analyzed = performance.now();
    if (!noAnalyze) await sql`analyze`.execute(db);
    const { rows: counts } = await sql<{ payments: string; flows: string }>`
      select (select count(*) from payments)::text as payments, (select count(*) from tranche_flows)::text as flows`.execute(
      db,
    );
    console.log(
      `books: ${counts[0]!.payments} payments, ${counts[0]!.flows} tranche flows, ${households} households; ` +
        `${events} events ${fast ? 'loaded (projectBatch + payment rows)' : 'through projectBatch'} in ${seconds.toFixed(0)} s ` +
        `(${Math.round(events / seconds)} events/s), analyze ${((performance.now() - analyzed) / 1000).toFixed(1)} s`,
    );
  }

  const latency = await measureTraceLatency(db, households, samples);
  console.log(
    `trace household → roots (${latency.paymentsPerTrace} payments, ${latency.hopsPerTrace} hops a trace, ${latency.samples} samples): ` +
      `p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms; inside PostgreSQL ` +
      `(${latency.inDatabase.samples} EXPLAIN ANALYZE) p50 ${latency.inDatabase.p50Ms} ms, p99 ${latency.inDatabase.p99Ms} ms, ` +
      `buffers hit ${latency.inDatabase.buffersHitP50} + read ${latency.inDatabase.buffersReadP50} (p50); ` +
      `GC pauses inside timed traces ${latency.gcInsideTraces.pauses} (${latency.gcInsideTraces.ms} ms); ` +
      `load average ${latency.loadAverage.join(' ')}`,
  );
} catch (error) {
  // A run that fails leaves nothing behind unless asked to keep its books.
  if (!keep && reuse === undefined) {
    await db.destroy();
    await database.drop();
  }
  throw error;
}

if (keep || reuse !== undefined) {
  console.log(`kept: ${database.url} (schema books)`);
  await db.destroy();
  await database.db.destroy();
} else {
  await db.destroy();
  await database.drop();
}
