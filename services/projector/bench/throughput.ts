/**
 * Measures projection throughput on the realistic event mix against the naive pipeline in the
 * same run (durable pull → one multi-row INSERT of the raw batch → ack, nothing decoded), the same
 * pipeline decoding each event as the projector does (a reference: decision 0132), and a rebuild.
 * Usage: node --import tsx services/projector/bench/throughput.ts [events] [--rebuild-only]
 *        [--no-rebuild] [--insert] [--profile=<dir>] (a CPU profile of each phase, written there)
 * The live projector writes its big append tables with COPY, as the service does (0136);
 * --insert: with INSERTs instead, as it did before.
 * Prints figures only; the benchmark suite formalises them (BENCHMARKS.md).
 *
 * Each phase also reports the CPU it used: this process's, and that of the PostgreSQL backends
 * serving it (from /proc, sampled while it runs). On a shared machine wall time follows the load;
 * CPU per event says what the work costs.
 *
 * The log is complete before the projector starts, so the "projector" phase and the rebuild do
 * the same work (both project from sequence 1 into a fresh schema); --rebuild-only skips the
 * first, which halves a 1,000,000-event run (node --max-old-space-size=8192 for that size: the
 * load is built in memory before it is appended).
 */

import { durableFor, rebuildBooks, startProjector } from '@fundtrace/books';
import { createCopyingDb, createDb, type Database, migrateToLatest } from '@fundtrace/db';
import {
  appliedBy,
  loadAverage,
  type Measured,
  measured,
  openBenchLog,
  prepareNaivePipeline,
  profiled,
} from './support';

const events = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 20_000);
const rebuildOnly = process.argv.includes('--rebuild-only');
// The live projector against the naive pipeline only (A/B runs of the projector, issue 5).
const noRebuild = process.argv.includes('--no-rebuild');
const copyLive = !process.argv.includes('--insert');
const profileDir = process.argv.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
// The naive pipeline: one multi-row INSERT of 500 raw events a batch. The projector runs
// with its own default batch (projectorBatchSize), as the service does.
const naiveBatchSize = 500;
const bench = await openBenchLog('projector-bench', events);
const { ns, nc, database, total } = bench;

async function untilApplied(schema: string, consumer: string): Promise<void> {
  while ((await appliedBy(database.db, schema, consumer)) < total) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Phase = Measured<void>;

/** Runs `work`, timing it and counting the CPU it took here and in its PostgreSQL backends. */
async function phase(name: string, application: string, work: () => Promise<void>): Promise<Phase> {
  return profiled(profileDir, name, () => measured(database.db, application, work));
}

// Naive pipeline: every stream, pull 500, one INSERT of raw rows, checkpoint, ack; then the same
// decoding each event as the projector does, a reference for what decoding costs (decision 0132).
const runNaive = await prepareNaivePipeline(bench, { schema: 'naive', batchSize: naiveBatchSize });
const naive = await phase('naive', 'bench-naive', async () => {
  await runNaive();
});
const runDecoding = await prepareNaivePipeline(bench, {
  schema: 'naive_decoding',
  batchSize: naiveBatchSize,
  mode: 'decoding',
});
const naiveDecoding = await phase('naive-decoding', 'bench-naive', async () => {
  await runDecoding();
});
const rate = (ms: number) => Math.round((total / ms) * 1000);
const cpu = (p: Phase) =>
  `CPU ${((p.nodeCpuS / total) * 1e6).toFixed(0)} µs/event here + ${((p.pgCpuS / total) * 1e6).toFixed(0)} µs/event in PostgreSQL`;
const load = () => `load average ${loadAverage()}`;
const ratios = (p: Phase) =>
  `${((naive.ms / p.ms) * 100).toFixed(0)}% of naive, ${((naiveDecoding.ms / p.ms) * 100).toFixed(0)}% of naive decoding; ` +
  `CPU ${((p.nodeCpuS + p.pgCpuS) / (naive.nodeCpuS + naive.pgCpuS)).toFixed(2)} × naive's`;
// Each phase is printed as it ends: a long run stopped early still leaves its figures.
console.log(
  `naive pipeline : ${total} events in ${naive.ms} ms = ${rate(naive.ms)} events/s; ${cpu(naive)}; ${load()}`,
);
console.log(
  `naive decoding : ${total} events in ${naiveDecoding.ms} ms = ${rate(naiveDecoding.ms)} events/s; ${cpu(naiveDecoding)}; ${load()}`,
);

// The projector from sequence 1, as the service runs it.
let projector: Phase | undefined;
if (!rebuildOnly) {
  await migrateToLatest(database.db, { schema: 'books' });
  const connection = { schema: 'books', applicationName: 'bench-projector' };
  const copying = copyLive ? createCopyingDb<Database>(database.url, connection) : undefined;
  const booksDb = copying?.db ?? createDb<Database>(database.url, connection);
  projector = await phase('projector', 'bench-projector', async () => {
    const running = startProjector({
      nc,
      db: booksDb,
      schema: 'books',
      ns,
      ...(copying === undefined ? {} : { copy: copying.copy }),
    });
    await running.discover();
    await untilApplied('books', durableFor('books'));
    await running.stop();
  });
  await booksDb.destroy();
  console.log(
    `projector      : ${total} events in ${projector.ms} ms = ${rate(projector.ms)} events/s (${ratios(projector)}); ${cpu(projector)}; ${load()}`,
  );
}

// A rebuild (replay) into a fresh schema, with its own batch size (rebuildBatchSize).
if (!noRebuild) {
  let applied = 0;
  const rebuild = await phase('rebuild', 'fundtrace-replay', async () => {
    applied = (await rebuildBooks({ url: database.url, nc, ns, schema: 'rebuilt' })).applied;
  });
  console.log(
    `rebuild        : ${applied} events in ${rebuild.ms} ms = ${rate(rebuild.ms)} events/s (${ratios(rebuild)}); ${cpu(rebuild)}; ${load()}`,
  );
}

await bench.close();
