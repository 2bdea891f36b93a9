/**
 * What `payments`' fillfactor 45 (migration 0011, for the household trace) costs or saves the live
 * projector: the naive pipeline, then the projector from sequence 1 into a schema as migrated
 * (fillfactor 45) and into one whose `payments` has the default fillfactor (100), in the order
 * given, over the same log. Per phase: wall time and rate, CPU per event in this process and in
 * its PostgreSQL backends (/proc), and the load-independent part: `payments`' heap size, its
 * updates and how many were HOT, and the shared-buffer blocks the schema's tables and indexes hit
 * and read from outside shared_buffers (pg_statio_user_tables), per event.
 * Usage: node --max-old-space-size=8192 --import tsx services/projector/bench/fillfactor.ts [events]
 *        [--order=45,100] [--naive-max=<events>]
 */

import { durableFor, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { sql } from 'kysely';
import { appliedBy, loadAverage, measured, openBenchLog, prepareNaivePipeline } from './support';

const events = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 100_000);
const order = (process.argv.find((arg) => arg.startsWith('--order='))?.slice('--order='.length) ?? '45,100')
  .split(',')
  .map((name) => {
    if (name !== '45' && name !== '100') throw new Error(`--order takes 45 and 100, not ${name}`);
    return name;
  });
const naiveMax = Number(
  process.argv.find((arg) => arg.startsWith('--naive-max='))?.slice('--naive-max='.length) ??
    Number.POSITIVE_INFINITY,
);
const batchSize = 500;
const bench = await openBenchLog('projector-fillfactor-bench', events);
const { ns, nc, database, total } = bench;

interface Io {
  readonly paymentsBytes: number;
  readonly paymentsUpdated: number;
  readonly paymentsHot: number;
  readonly heapRead: number;
  readonly heapHit: number;
  readonly indexRead: number;
  readonly indexHit: number;
}

/** `schema`'s buffer traffic and `payments`' size and updates (the statistics lag by up to 1 s). */
async function io(schema: string): Promise<Io> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await sql<Record<keyof Io, string>>`
    select
      (select pg_relation_size(${`${schema}.payments`}::regclass))::text as "paymentsBytes",
      (select n_tup_upd from pg_stat_user_tables where schemaname = ${schema} and relname = 'payments')::text
        as "paymentsUpdated",
      (select n_tup_hot_upd from pg_stat_user_tables where schemaname = ${schema} and relname = 'payments')::text
        as "paymentsHot",
      coalesce(sum(heap_blks_read), 0)::text as "heapRead",
      coalesce(sum(heap_blks_hit), 0)::text as "heapHit",
      coalesce(sum(idx_blks_read), 0)::text as "indexRead",
      coalesce(sum(idx_blks_hit), 0)::text as "indexHit"
    from pg_statio_user_tables where schemaname = ${schema}`.execute(database.db);
  const row = rows[0]!;
  return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])) as unknown as Io;
}

const perEvent = (n: number, of: number) => (n / of).toFixed(2);
const rate = (applied: number, ms: number) => Math.round((applied / ms) * 1000);

// The naive pipeline (issue 5's reference), as throughput.ts and rebuild.ts run it.
const runNaive = await prepareNaivePipeline(bench, { schema: 'naive', batchSize });
const naiveLoad = loadAverage();
const naive = await measured(database.db, 'bench-naive', () => runNaive(naiveMax));
const naiveApplied = naive.value;
const naiveRate = rate(naiveApplied, naive.ms);
console.log(
  `naive          : ${naiveApplied} events in ${naive.ms} ms = ${naiveRate} ev/s; CPU ` +
    `${((naive.nodeCpuS / naiveApplied) * 1e6).toFixed(0)} µs/ev here + ` +
    `${((naive.pgCpuS / naiveApplied) * 1e6).toFixed(0)} µs/ev in PostgreSQL; load average ${naiveLoad} → ${loadAverage()}`,
);

for (const fillfactor of order) {
  const schema = `ff${fillfactor}`;
  await migrateToLatest(database.db, { schema });
  if (fillfactor === '100')
    await sql`alter table ${sql.table(`${schema}.payments`)} reset (fillfactor)`.execute(database.db);
  const application = `bench-ff${fillfactor}`;
  const db = createDb<Database>(database.url, { schema, applicationName: application });
  const loadBefore = loadAverage();
  const { ms, nodeCpuS, pgCpuS } = await measured(database.db, application, async () => {
    const running = startProjector({ nc, db, schema, ns, batchSize });
    await running.discover();
    while ((await appliedBy(database.db, schema, durableFor(schema))) < total) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await running.stop();
  });
  await db.destroy();
  const seen = await io(schema);
  console.log(
    `projector ff${fillfactor.padEnd(3)}: ${total} events in ${ms} ms = ${rate(total, ms)} ev/s ` +
      `(${(rate(total, ms) / naiveRate).toFixed(2)} × naive); CPU ${((nodeCpuS / total) * 1e6).toFixed(0)} µs/ev here + ` +
      `${((pgCpuS / total) * 1e6).toFixed(0)} µs/ev in PostgreSQL; payments ${(seen.paymentsBytes / 2 ** 20).toFixed(0)} MiB heap, ` +
      `${seen.paymentsUpdated} updates (${seen.paymentsHot} HOT); blocks per event: heap ${perEvent(seen.heapHit, total)} hit + ` +
      `${perEvent(seen.heapRead, total)} read, indexes ${perEvent(seen.indexHit, total)} hit + ` +
      `${perEvent(seen.indexRead, total)} read; load average ${loadBefore} → ${loadAverage()}`,
  );
}

await bench.close();
