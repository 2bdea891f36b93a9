/**
 * What the projector's benches (throughput.ts, rebuild.ts, trace-profile.ts) share: the realistic
 * log appended to a fresh namespace beside a fresh database, the naive pipeline they are measured
 * against, the CPU of PostgreSQL backends read from /proc, the profiler and the load average.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import {
  connectNats,
  decodeStreamMessageWithData,
  type RawStreamMessage,
  runProjection,
} from '@fundtrace/eventlog';
import {
  createTestDatabase,
  deleteNamespaceStreams,
  type TestDatabase,
  testNamespace,
} from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Kysely, sql } from 'kysely';
import { projectorEventLog } from '../test/support/event-log';
import { writeLoad } from '../test/support/load';

/** The load average (1, 5, 15 min), two decimals. */
export function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
}

/** CPU seconds (user + system) process `pid` has used, from /proc (10 ms ticks). */
export function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Samples the CPU of this database's PostgreSQL backends whose application_name is `application`
 * every 250 ms; the function it answers stops sampling and gives their CPU seconds in all.
 */
function sampleBackendCpu<DB>(db: Kysely<DB>, application: string): () => Promise<number> {
  const seen = new Map<number, number>();
  const sample = async () => {
    const { rows } = await sql<{ pid: number }>`
      select pid from pg_stat_activity
      where application_name = ${application} and datname = current_database()`.execute(db);
    for (const { pid } of rows) {
      try {
        seen.set(pid, procCpuSeconds(pid));
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

/** What `measured` answers: the work's value, its wall time and the CPU it took. */
export interface Measured<T> {
  readonly value: T;
  readonly ms: number;
  /** CPU seconds (user + system) of this process. */
  readonly nodeCpuS: number;
  /** CPU seconds of the PostgreSQL backends named `application` (see sampleBackendCpu). */
  readonly pgCpuS: number;
}

/**
 * Runs `work`, timing it and counting the CPU it took in this process and in the PostgreSQL
 * backends of `db`'s database whose application_name is `application`: every bench's phase.
 */
export async function measured<DB, T>(
  db: Kysely<DB>,
  application: string,
  work: () => Promise<T>,
): Promise<Measured<T>> {
  const pg = sampleBackendCpu(db, application);
  const cpu = process.cpuUsage();
  const started = Date.now();
  let value: T;
  try {
    value = await work();
  } catch (error) {
    await pg();
    throw error;
  }
  const ms = Date.now() - started;
  const used = process.cpuUsage(cpu);
  return { value, ms, nodeCpuS: (used.user + used.system) / 1e6, pgCpuS: await pg() };
}

/** Runs `work` under V8's CPU profiler when `dir` is given, writing `<dir>/<name>.cpuprofile`. */
export async function profiled<T>(dir: string | undefined, name: string, work: () => Promise<T>): Promise<T> {
  if (dir === undefined) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/${name}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
}

export interface BenchLog {
  readonly ns: string;
  readonly nc: NatsConnection;
  readonly database: TestDatabase;
  /** Last sequence of every stream appended. */
  readonly tails: Map<string, number>;
  /** Events in all streams. */
  readonly total: number;
  /** Removes the streams and the database. */
  close(): Promise<void>;
}

/**
 * The realistic event mix (`events` of it) appended to a fresh namespace, and a fresh database.
 * The load is built before connecting: at 1M events that is minutes of synchronous work, during
 * which a connection would miss its pings. Stopped early (SIGINT, SIGTERM), the streams and the
 * database go with the process.
 */
export async function openBenchLog(name: string, events: number): Promise<BenchLog> {
  const ns = testNamespace();
  const log = projectorEventLog(undefined, ns);
  const queued = writeLoad(log, events);
  // As the projector service connects (no stack captured per request).
  const nc = await connectNats(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', { name, asyncTraces: false });
  const database = await createTestDatabase();
  const close = async () => {
    await deleteNamespaceStreams(await jetstreamManager(nc), ns).catch(() => undefined);
    await nc.close().catch(() => undefined);
    await database.drop().catch(() => undefined);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void close().finally(() => process.exit(1)));
  }
  const tails = await log.connect(nc).flush();
  const total = [...tails.values()].reduce((a, b) => a + b, 0);
  console.log(`appended ${queued} events in ${tails.size} streams; load average ${loadAverage()}`);
  return { ns, nc, database, tails, total, close };
}

/**
 * The naive pipeline of issue 5 into schema `schema` under durable `schema`: every stream, pull
 * `batchSize`, one multi-row INSERT of the raw events with the checkpoint, ack. Preparing (the
 * schema and its table) is not part of the measurement: the function it answers runs the pipeline
 * until `upTo` events are applied (all of them by default) and answers how many were.
 */
export async function prepareNaivePipeline(
  bench: BenchLog,
  options: {
    readonly schema: string;
    readonly batchSize: number;
    /**
     * `raw` (default): the issue's naive pipeline, the stored bytes inserted as they came;
     * `decoding`: each event decoded first as the projector does, a reference (decision 0132).
     */
    readonly mode?: 'raw' | 'decoding';
  },
): Promise<(upTo?: number) => Promise<number>> {
  const { schema } = options;
  await migrateToLatest(bench.database.db, { schema });
  const naiveDb = createDb<Database>(bench.database.url, { schema, applicationName: 'bench-naive' });
  await sql`create table ${sql.table(`${schema}.raw_events`)} (stream text, seq bigint, subject text, bytes bytea, primary key (stream, seq))`.execute(
    naiveDb,
  );
  return async (upTo = bench.total) => {
    try {
      const runners = [...bench.tails.keys()].map((stream) =>
        runProjection<Database, RawStreamMessage>({
          nc: bench.nc,
          db: naiveDb,
          stream,
          durable: schema,
          batchSize: options.batchSize,
          decode: options.mode === 'decoding' ? decodeStreamMessageWithData : (message) => message,
          handler: async (trx, batch) => {
            await sql`insert into raw_events (stream, seq, subject, bytes) values ${sql.join(
              batch.map((e) => sql`(${e.stream}, ${e.seq}, ${e.subject}, ${Buffer.from(e.bytes)})`),
            )}`.execute(trx);
          },
        }),
      );
      const until = Math.min(bench.total, upTo);
      let applied = await appliedBy(naiveDb, schema, schema);
      while (applied < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        applied = await appliedBy(naiveDb, schema, schema);
      }
      await Promise.all(runners.map((r) => r.stop()));
      return applied;
    } finally {
      await naiveDb.destroy();
    }
  };
}

/** Events consumer `consumer` has checkpointed in `schema`, all streams together. */
export async function appliedBy<DB>(db: Kysely<DB>, schema: string, consumer: string): Promise<number> {
  const { rows } = await sql<{ n: string | null }>`
    select sum(last_seq)::text as n from ${sql.table(`${schema}.projection_checkpoints`)} where consumer = ${consumer}`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}
