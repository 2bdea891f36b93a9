import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDb, type Database } from '@fundtrace/db';
import { decodeStreamMessageWithData, type RawStreamMessage, runProjection } from '@fundtrace/eventlog';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Progress } from './progress';

/**
 * The raw limits of NATS and PostgreSQL on this machine, measured in the same run as our
 * figures, so each of ours is reported as a share of what the infrastructure itself can do.
 */

/** Messages in flight for the publish baseline: the window the roster target names. */
export const publishInFlight = 1_000;
/** Rows per INSERT statement and events per naive-pipeline batch: the projector's batch size. */
export const insertRows = 500;
/** Messages per pull request when consuming: the projector pulls its batch size too. */
const pullBatch = 500;

export interface Rate {
  count: number;
  ms: number;
  perS: number;
}

export function rate(count: number, ms: number): Rate {
  return { count, ms: Math.round(ms), perS: ms > 0 ? Math.round((count / ms) * 1000) : 0 };
}

/** Publishes `payloads` to `subject.<i>` with `publishInFlight` acknowledgements outstanding. */
export async function publishPipelined(
  js: JetStreamClient,
  subject: string,
  payloads: readonly Uint8Array[],
  progress?: Progress,
): Promise<Rate> {
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (const [i, bytes] of payloads.entries()) {
    pending.push(js.publish(`${subject}.${i % 1000}`, bytes));
    if (pending.length >= publishInFlight) {
      await pending.shift();
      if (i % 1000 === 0) progress?.update(i);
    }
  }
  await Promise.all(pending);
  progress?.update(payloads.length);
  return rate(payloads.length, performance.now() - started);
}

/** Consumes the whole stream through a durable pull consumer, acknowledging every message. */
export async function consumeDurable(
  nc: NatsConnection,
  stream: string,
  total: number,
  progress?: Progress,
): Promise<Rate> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.consumers.add(stream, {
    durable_name: 'bench-consume',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const consumer = await js.consumers.get(stream, 'bench-consume');
  const started = performance.now();
  let seen = 0;
  while (seen < total) {
    const batch = await consumer.fetch({ max_messages: pullBatch, expires: 2_000 });
    for await (const m of batch) {
      m.ack();
      seen++;
    }
    progress?.update(seen);
  }
  const ms = performance.now() - started;
  await jsm.consumers.delete(stream, 'bench-consume');
  return rate(seen, ms);
}

/** A stand-in for an event row: the columns the projector's events table carries. */
export interface RawRow {
  stream: string;
  seq: number;
  subject: string;
  bytes: Uint8Array;
}

export async function insertMultiRow(
  url: string,
  rows: readonly RawRow[],
  progress?: Progress,
): Promise<Rate> {
  const db = createDb<unknown>(url, { max: 1, applicationName: 'fundtrace-bench' });
  try {
    await sql`create table bench_insert (stream text, seq bigint, subject text, bytes bytea, primary key (stream, seq))`.execute(
      db,
    );
    const started = performance.now();
    for (let i = 0; i < rows.length; i += insertRows) {
      const part = rows.slice(i, i + insertRows);
      await sql`insert into bench_insert (stream, seq, subject, bytes) values ${sql.join(
        part.map((r) => sql`(${r.stream}, ${r.seq}, ${r.subject}, ${Buffer.from(r.bytes)})`),
      )}`.execute(db);
      progress?.update(i + part.length);
    }
    const result = rate(rows.length, performance.now() - started);
    await sql`drop table bench_insert`.execute(db);
    return result;
  } finally {
    await db.destroy();
  }
}

export async function copyRows(url: string, rows: readonly RawRow[]): Promise<Rate> {
  const client = new pg.Client({ connectionString: url, application_name: 'fundtrace-bench' });
  await client.connect();
  try {
    await client.query(
      'create table bench_copy (stream text, seq bigint, subject text, bytes bytea, primary key (stream, seq))',
    );
    const started = performance.now();
    function* lines() {
      for (const r of rows)
        yield `${r.stream}\t${r.seq}\t${r.subject}\t\\\\x${Buffer.from(r.bytes).toString('hex')}\n`;
    }
    await pipeline(
      Readable.from(lines()),
      client.query(copyFrom('copy bench_copy (stream, seq, subject, bytes) from stdin')),
    );
    const result = rate(rows.length, performance.now() - started);
    await client.query('drop table bench_copy');
    return result;
  } finally {
    await client.end();
  }
}

/**
 * How the naive pipeline treats each message: `raw` inserts the stored bytes as they came (the
 * issue's pipeline: pull → INSERT → ack, nothing decoded); `decoding` first decodes every event as
 * the projector does (`decodeStreamMessageWithData`), a reference that says how much of the
 * projector's cost is decoding (decision 0132).
 */
export type NaiveMode = 'raw' | 'decoding';

/** A message passed on as stored: the raw pipeline decodes nothing. */
const asStored = (message: RawStreamMessage) => message;

/**
 * The naive pipeline the projector is held against: a durable pull per stream, each batch of
 * 500 raw events inserted in one statement with the checkpoint, then acknowledged — no read
 * models, and in `raw` mode (the default, the issue's) no decoding either. Runs until every
 * stream's last sequence is applied, or `eventsMax` events.
 */
export async function naivePipeline(
  nc: NatsConnection,
  url: string,
  streams: ReadonlyMap<string, number>,
  schema: string,
  progress?: Progress,
  /** Stop after this many events (default: all of them). */
  eventsMax = Number.POSITIVE_INFINITY,
  mode: NaiveMode = 'raw',
): Promise<Rate> {
  const { migrateToLatest } = await import('@fundtrace/db');
  const admin = createDb<unknown>(url, { max: 1, applicationName: 'fundtrace-bench' });
  await migrateToLatest(admin as never, { schema });
  await admin.destroy();
  const db = createDb<Database>(url, { schema, applicationName: 'fundtrace-bench' });
  await sql`create table ${sql.table(`${schema}.raw_events`)} (stream text, seq bigint, subject text, bytes bytea, primary key (stream, seq))`.execute(
    db,
  );
  const total = Math.min(
    eventsMax,
    [...streams.values()].reduce((a, b) => a + b, 0),
  );
  let applied = 0;
  const started = performance.now();
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    finish = r;
  });
  const runners = [...streams.keys()].map((stream) =>
    runProjection<Database, RawStreamMessage>({
      nc,
      db,
      stream,
      durable: `naive-${schema}`,
      batchSize: insertRows,
      decode: mode === 'raw' ? asStored : decodeStreamMessageWithData,
      handler: async (trx, batch) => {
        await sql`insert into raw_events (stream, seq, subject, bytes) values ${sql.join(
          batch.map((e) => sql`(${e.stream}, ${e.seq}, ${e.subject}, ${Buffer.from(e.bytes)})`),
        )}`.execute(trx);
      },
      afterCommit: (batch) => {
        applied += batch.applied;
        progress?.update(applied);
        if (applied >= total) finish();
      },
    }),
  );
  let ms: number;
  let measured: number;
  try {
    // A runner that stops (a message the decoding mode cannot decode, a lost database) fails the
    // phase instead of leaving it waiting for events that will never be applied; a runner's
    // `done` settles before `stop()` only when it failed.
    if (total > 0) await Promise.race([done, ...runners.map((r) => r.done)]);
    ms = performance.now() - started;
    // Before stopping: a stop finishes the batch in hand, which the clock did not time.
    measured = applied;
  } finally {
    await Promise.all(runners.map((r) => r.stop()));
    const jsm: JetStreamManager = await jetstreamManager(nc);
    for (const stream of streams.keys())
      await jsm.consumers.delete(stream, `naive-${schema}`).catch(() => false);
    await db.destroy();
  }
  return rate(measured, ms);
}
