/**
 * Measures projection throughput on the realistic event mix against the naive pipeline in the
 * same run (durable pull → one multi-row INSERT of the raw batch → ack), and a rebuild.
 * Usage: node --import tsx services/projector/bench/throughput.ts [events] [--rebuild-only]
 *        [--profile=<dir>] (a CPU profile of each phase, written there)
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

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { durableFor, rebuildBooks, startProjector } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { connectNats, runProjection } from '@fundtrace/eventlog';
import { createTestDatabase, deleteNamespaceStreams, testNamespace } from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';
import { writeLoad } from '../test/support/load';
import { LogWriter } from '../test/support/log-writer';

const events = Number(process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? 20_000);
const rebuildOnly = process.argv.includes('--rebuild-only');
const profileDir = process.argv.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
const batchSize = 500;
const ns = testNamespace();
// The load is built before connecting: at 1M events that is minutes of synchronous work, during
// which a connection would miss its pings.
const log = new LogWriter(undefined, ns);
const queued = writeLoad(log, events);
// As the projector service connects (no stack captured per request: every ack is one).
const nc = await connectNats(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', {
  name: 'projector-bench',
  asyncTraces: false,
});
const database = await createTestDatabase();
// Stopped early (SIGINT, SIGTERM): its streams and database go with it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (async () => {
      await deleteNamespaceStreams(await jetstreamManager(nc), ns).catch(() => undefined);
      await database.drop().catch(() => undefined);
      process.exit(1);
    })();
  });
}
const tails = await log.connect(nc).flush();
const total = [...tails.values()].reduce((a, b) => a + b, 0);
console.log(
  `appended ${queued} events in ${tails.size} streams; load average ${loadavg()
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

/** CPU seconds of the PostgreSQL backends whose application_name is `application`, sampled. */
function backendCpu(application: string) {
  const seen = new Map<number, number>();
  const ticksPerSecond = 100;
  const sample = async () => {
    const { rows } = await sql<{ pid: number }>`
      select pid from pg_stat_activity where application_name = ${application}`.execute(database.db);
    for (const { pid } of rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        seen.set(pid, (Number(fields[11]) + Number(fields[12])) / ticksPerSecond);
      } catch {
        // The backend ended between the two looks; its last sample stands.
      }
    }
  };
  const timer = setInterval(() => void sample().catch(() => undefined), 250);
  return async () => {
    clearInterval(timer);
    await sample().catch(() => undefined);
    return [...seen.values()].reduce((a, b) => a + b, 0);
  };
}

interface Phase {
  readonly ms: number;
  readonly nodeCpuS: number;
  readonly pgCpuS: number;
}

/** Runs `work`, timing it and counting the CPU it took here and in its PostgreSQL backends. */
async function phase(name: string, application: string, work: () => Promise<void>): Promise<Phase> {
  const session = profileDir === undefined ? undefined : new Session();
  if (session !== undefined) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const pg = backendCpu(application);
  const cpu = process.cpuUsage();
  const started = Date.now();
  await work();
  const ms = Date.now() - started;
  const used = process.cpuUsage(cpu);
  const pgCpuS = await pg();
  if (session !== undefined && profileDir !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(profileDir, { recursive: true });
    writeFileSync(`${profileDir}/${name}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
  return { ms, nodeCpuS: (used.user + used.system) / 1e6, pgCpuS };
}

// Naive pipeline: every stream, pull 500, one INSERT of raw rows, checkpoint, ack.
await migrateToLatest(database.db, { schema: 'naive' });
const naiveDb = createDb<Database>(database.url, { schema: 'naive', applicationName: 'bench-naive' });
await sql`create table naive.raw_events (stream text, seq bigint, subject text, bytes bytea, primary key (stream, seq))`.execute(
  naiveDb,
);
const naive = await phase('naive', 'bench-naive', async () => {
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
  await Promise.all(runners.map((r) => r.stop()));
});
await naiveDb.destroy();
const rate = (ms: number) => Math.round((total / ms) * 1000);
const cpu = (p: Phase) =>
  `CPU ${((p.nodeCpuS / total) * 1e6).toFixed(0)} µs/event here + ${((p.pgCpuS / total) * 1e6).toFixed(0)} µs/event in PostgreSQL`;
const load = () =>
  `load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`;
const ratios = (p: Phase) =>
  `${((naive.ms / p.ms) * 100).toFixed(0)}% of naive; CPU ${(((naive.nodeCpuS + naive.pgCpuS) / (p.nodeCpuS + p.pgCpuS)) * 100).toFixed(0)}% of naive's`;
// Each phase is printed as it ends: a long run stopped early still leaves its figures.
console.log(
  `naive pipeline : ${total} events in ${naive.ms} ms = ${rate(naive.ms)} events/s; ${cpu(naive)}; ${load()}`,
);

// The projector from sequence 1, as the service runs it.
let projector: Phase | undefined;
if (!rebuildOnly) {
  await migrateToLatest(database.db, { schema: 'books' });
  const booksDb = createDb<Database>(database.url, { schema: 'books', applicationName: 'bench-projector' });
  projector = await phase('projector', 'bench-projector', async () => {
    const running = startProjector({ nc, db: booksDb, schema: 'books', ns, batchSize });
    await running.discover();
    await untilApplied(database.db, 'books', durableFor('books'));
    await running.stop();
  });
  await booksDb.destroy();
  console.log(
    `projector      : ${total} events in ${projector.ms} ms = ${rate(projector.ms)} events/s (${ratios(projector)}); ${cpu(projector)}; ${load()}`,
  );
}

// A rebuild (replay) into a fresh schema, with its own batch size (rebuildBatchSize).
let applied = 0;
const rebuild = await phase('rebuild', 'fundtrace-replay', async () => {
  applied = (await rebuildBooks({ url: database.url, nc, ns, schema: 'rebuilt' })).applied;
});

console.log(
  `rebuild        : ${applied} events in ${rebuild.ms} ms = ${rate(rebuild.ms)} events/s (${ratios(rebuild)}); ${cpu(rebuild)}; ${load()}`,
);

await deleteNamespaceStreams(await jetstreamManager(nc), ns);
await nc.close();
await database.drop();
