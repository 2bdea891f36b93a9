/**
 * A rebuild (`fundtrace replay`) against the naive pipeline over the same log, in one run: the
 * naive pipeline, then rebuilds written as the live projector writes (`bulk: false`) and by the
 * bulk path (decision 0065), in the order given, each into its own fresh schema. Per phase: wall
 * time and rate, CPU per event in this process and in the PostgreSQL backends serving it (/proc),
 * rows PostgreSQL inserted and updated per event (pg_stat_user_tables of the phase's schema), WAL
 * bytes per event (pg_current_wal_lsn before and after: the whole server's, so other work on a
 * shared machine is counted in too) and the load average. The two rebuilds must give the same
 * books (digestBooks), or the run fails.
 * Usage: node --import tsx services/projector/bench/rebuild.ts [events] [--order=insert,bulk]
 *        [--naive-max=<events>] [--naive-after] [--profile=<dir>] (node --max-old-space-size=8192 at 1,000,000
 *        events). --naive-max stops the naive pipeline after that many events, as `pnpm bench`
 *        does (its cost per event is flat in the log's size); rates are compared per event.
 */

import { digestBooks, rebuildBooks } from '@fundtrace/books';
import { type Kysely, sql } from 'kysely';
import { loadAverage, measured, openBenchLog, prepareNaivePipeline, profiled } from './support';

const events = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 100_000);
const order = (
  process.argv.find((arg) => arg.startsWith('--order='))?.slice('--order='.length) ?? 'insert,bulk'
)
  .split(',')
  .map((name) => {
    if (name !== 'insert' && name !== 'bulk') throw new Error(`--order takes insert and bulk, not ${name}`);
    return name;
  });
const naiveMax = Number(
  process.argv.find((arg) => arg.startsWith('--naive-max='))?.slice('--naive-max='.length) ??
    Number.POSITIVE_INFINITY,
);
const profileDir = process.argv.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
/** The naive pipeline's batch: one multi-row INSERT of 500 raw events (issue 5). */
const naiveBatch = 500;
const bench = await openBenchLog('projector-rebuild-bench', events);
const { ns, nc, database, total } = bench;
const load = loadAverage;

async function walLsn<DB>(db: Kysely<DB>): Promise<bigint> {
  const { rows } = await sql<{ bytes: string }>`
    select pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as bytes`.execute(db);
  return BigInt(rows[0]!.bytes);
}

/** Rows inserted and updated in `schema`'s tables (the statistics lag a commit by up to 1 s). */
async function rowsWritten(schema: string): Promise<{ inserted: number; updated: number }> {
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await sql<{ inserted: string; updated: string }>`
    select coalesce(sum(n_tup_ins), 0)::text as inserted, coalesce(sum(n_tup_upd), 0)::text as updated
    from pg_stat_user_tables where schemaname = ${schema}`.execute(database.db);
  return { inserted: Number(rows[0]!.inserted), updated: Number(rows[0]!.updated) };
}

interface Phase {
  readonly name: string;
  readonly events: number;
  readonly ms: number;
  readonly nodeCpuS: number;
  readonly pgCpuS: number;
  readonly walBytes: bigint;
  readonly inserted: number;
  readonly updated: number;
  readonly loadBefore: string;
  readonly loadAfter: string;
}

/** Runs `work` (which returns the events it applied) and reports what it cost. */
async function phase(name: string, application: string, schema: string, work: () => Promise<number>) {
  const result = await profiled(profileDir, name, async (): Promise<Phase> => {
    const loadBefore = load();
    const wal = await walLsn(database.db);
    const { value: events, ms, nodeCpuS, pgCpuS } = await measured(database.db, application, work);
    const walBytes = (await walLsn(database.db)) - wal;
    const loadAfter = load();
    return {
      name,
      events,
      ms,
      nodeCpuS,
      pgCpuS,
      walBytes,
      ...(await rowsWritten(schema)),
      loadBefore,
      loadAfter,
    };
  });
  report(result);
  return result;
}

let naive: Phase | undefined;
function report(p: Phase): void {
  const perEvent = (n: number) => (n / p.events).toFixed(2);
  const rate = (q: Phase) => (q.events / q.ms) * 1000;
  const ratio = naive === undefined || p === naive ? '' : ` (${(rate(p) / rate(naive)).toFixed(2)} × naive)`;
  console.log(
    `${p.name.padEnd(15)}: ${p.events} events in ${p.ms} ms = ${Math.round(rate(p))} ev/s${ratio}; ` +
      `CPU ${((p.nodeCpuS / p.events) * 1e6).toFixed(0)} µs/ev here + ${((p.pgCpuS / p.events) * 1e6).toFixed(0)} µs/ev in PostgreSQL; ` +
      `rows ${perEvent(p.inserted)} inserted + ${perEvent(p.updated)} updated per event; ` +
      `WAL ${(Number(p.walBytes) / p.events).toFixed(0)} B/ev (server-wide); load average ${p.loadBefore} → ${p.loadAfter}`,
  );
}

/**
 * The naive pipeline: every stream, pull 500, one INSERT of the raw rows with the checkpoint, ack;
 * into its own schema and under its own durable, so it can run again after the rebuilds
 * (`--naive-after`): on a shared machine the load moves, and one naive run before and one after
 * bracket the rebuilds.
 */
async function naivePhase(run: number): Promise<Phase> {
  const schema = `naive_${run}`;
  const runNaive = await prepareNaivePipeline(bench, { schema, batchSize: naiveBatch });
  return phase(`naive ${run}`, 'bench-naive', schema, () => runNaive(naiveMax));
}

naive = await naivePhase(1);

for (const name of order) {
  const schema = `rebuilt_${name}`;
  await phase(`rebuild ${name}`, 'fundtrace-replay', schema, async () => {
    const result = await rebuildBooks({ url: database.url, nc, ns, schema, bulk: name === 'bulk' });
    if (result.applied !== total) throw new Error(`rebuild ${name} applied ${result.applied} of ${total}`);
    console.log(`rebuild ${name}: ${result.finishMs} ms of it building deferred indexes and analyzing`);
    return result.applied;
  });
}
if (process.argv.includes('--naive-after')) await naivePhase(2);
if (order.length === 2) {
  const [a, b] = await Promise.all(order.map((name) => digestBooks(database.db, `rebuilt_${name}`)));
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('the two rebuilds differ');
  console.log('the two rebuilds give identical books (digestBooks)');
}

await bench.close();
