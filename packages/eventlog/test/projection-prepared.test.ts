import type { Database } from '@fundtrace/db';
import { useTestInfra } from '@fundtrace/testkit';
import { sql, type Transaction } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  lastSequence,
  type PrepareOptions,
  type RunProjectionOptions,
  runProjection,
  type StreamEvent,
} from '../src';
import { appliedCounts, checkpointOf } from './support/applied-table';
import { until } from './support/fixtures';
import { useLedgerStream } from './support/ledger-stream';

// Two-stage batches (decision 0136) against the machine's NATS and PostgreSQL: the next batch is
// prepared while the current one is written, prepared work is written once or discarded, and
// one instance at a time pulls a stream (the lease).
const infra = useTestInfra();
const ledger = useLedgerStream(infra);
let stream: string;

beforeAll(() => {
  stream = ledger.name;
});

const appendEvents = (commandId: string, count: number): Promise<number> => ledger.append(commandId, count);

/** What `run` made of a batch: its sequences, and who wrote it. */
interface Prepared {
  readonly seqs: readonly number[];
}

async function insertApplied(
  trx: Transaction<Database>,
  durable: string,
  seqs: readonly number[],
  how: string,
) {
  await sql`insert into applied (consumer, seq, type)
    select ${durable}, s, ${how} from unnest(${seqs}::bigint[]) as s`.execute(trx);
}

/**
 * A recording projection: `run` prepares a batch by noting its sequences, `write` inserts them
 * (type 'prepared'), the handler inserts what was not prepared (type 'plain'). `log` keeps the
 * order things happened in.
 */
function recording(durable: string, hooks: { beforeWrite?: (prepared: Prepared) => Promise<void> } = {}) {
  const log: string[] = [];
  const discarded: Prepared[] = [];
  const range = (seqs: readonly number[]) => `${seqs[0]}-${seqs.at(-1)}`;
  const prepare: PrepareOptions<Database, StreamEvent, Prepared> = {
    async run(events) {
      const seqs = events.map((e) => e.seq);
      log.push(`run ${range(seqs)}`);
      return { seqs };
    },
    async write(trx, prepared, sent) {
      log.push(`write ${range(prepared.seqs)}`);
      await insertApplied(trx, durable, prepared.seqs, 'prepared');
      sent();
      log.push(`sent ${range(prepared.seqs)}`);
      await hooks.beforeWrite?.(prepared);
    },
    discard(prepared) {
      log.push(`discard ${range(prepared.seqs)}`);
      discarded.push(prepared);
    },
  };
  const options: RunProjectionOptions<Database, StreamEvent, unknown, Prepared> = {
    nc: infra.nc,
    db: infra.db,
    stream,
    durable,
    batchSize: 10,
    maxWaitMs: 1_000,
    ackWaitMs: 2_000,
    prepare,
    handler: async (trx, events) => {
      const seqs = events.map((e) => e.seq);
      log.push(`plain ${range(seqs)}`);
      await insertApplied(trx, durable, seqs, 'plain');
    },
  };
  return { options, log, discarded };
}

async function appliedHow(durable: string): Promise<Record<string, number>> {
  const { rows } = await sql<{ type: string; n: string }>`
    select type, count(*)::text as n from applied where consumer = ${durable} group by type`.execute(
    infra.db,
  );
  return Object.fromEntries(rows.map((row) => [row.type, Number(row.n)]));
}

describe('runProjection with prepare', () => {
  it('prepares each batch after the one before has sent its writes, and writes each event once', async () => {
    const durable = 'prepared-steady';
    const last = await appendEvents('prepared-steady', 60);
    const { options, log, discarded } = recording(durable);
    const runner = runProjection(options);
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'every event');
    await runner.stop();
    await expect(runner.done).resolves.toBeUndefined();

    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: last, distinct: last, maxSeq: last });
    const how = await appliedHow(durable);
    // The first batch has nothing before it to overlap with; after it, batches are prepared.
    expect(how.prepared).toBeGreaterThanOrEqual(last - 20);
    expect(discarded).toEqual([]);
    // A batch is prepared only once the batch before it sent its writes (or, unprepared, ended).
    for (const [index, entry] of log.entries()) {
      if (!entry.startsWith('run ')) continue;
      const first = Number(entry.slice(4).split('-')[0]);
      const before = log
        .slice(0, index)
        .findLast((e) => e.startsWith('sent ') || e.startsWith('plain ') || e.startsWith('write '));
      expect(before, `${entry} after ${before}`).toBeDefined();
      expect(Number(before!.split(' ')[1]!.split('-')[1]), entry).toBe(first - 1);
      expect(before!.startsWith('write '), `${entry} before its predecessor's writes were sent`).toBe(false);
    }
  });

  it('discards what it prepared when the batch before fails, and then applies it once', async () => {
    const durable = 'prepared-failure';
    const start = await lastSequence(infra.jsm, stream);
    const last = await appendEvents('prepared-failure', 50);
    let failed = false;
    const recorder = recording(durable, {
      // The batch after the first prepared one fails once, after the next batch was prepared on
      // top of it: a lost connection, say (40001 is retried, like one).
      beforeWrite: async (prepared) => {
        if (failed || prepared.seqs[0]! < start + 11) return;
        const next = `run ${prepared.seqs.at(-1)! + 1}-`;
        await until(async () => recorder.log.some((e) => e.startsWith(next)), 'the next batch prepared');
        failed = true;
        throw Object.assign(new Error('serialization failure, as if the connection dropped'), {
          code: '40001',
        });
      },
    });
    const runner = runProjection(recorder.options);
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'every event');
    await runner.stop();
    await expect(runner.done).resolves.toBeUndefined();

    expect(failed).toBe(true);
    expect(recorder.discarded.length).toBeGreaterThanOrEqual(1);
    // A new durable applies the stream from sequence 1, the other tests' events too.
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: last, distinct: last, maxSeq: last });
  });

  it('lets one instance pull at a time: the other stands by, and takes over when it stops', async () => {
    const durable = 'prepared-lease';
    const first = await appendEvents('prepared-lease-1', 40);
    const a = recording(durable);
    const b = recording(durable);
    const runnerA = runProjection(a.options);
    await until(async () => (await checkpointOf(infra.db, durable, stream)) > 0, 'A started');
    const runnerB = runProjection(b.options);
    await until(async () => runnerB.status().state === 'standby', 'B standing by');
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === first, 'first events');
    // B never pulled: every batch is A's.
    expect(b.log).toEqual([]);

    await runnerA.stop();
    const last = await appendEvents('prepared-lease-2', 25);
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'B took over');
    expect(runnerB.status().state).toBe('running');
    expect(b.log.some((e) => e.startsWith('plain ') || e.startsWith('write '))).toBe(true);
    await runnerB.stop();
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: last, distinct: last, maxSeq: last });
  });

  it('waits for a lease another instance holds until it runs out', async () => {
    const durable = 'prepared-expiry';
    const last = await appendEvents('prepared-expiry', 15);
    // An instance that died holding the lease for another 1.5 s.
    await sql`insert into projection_leases (consumer, stream, holder, expires_at)
      values (${durable}, ${stream}, 'a-dead-instance', now() + interval '1500 milliseconds')`.execute(
      infra.db,
    );
    const { options, log } = recording(durable);
    const runner = runProjection(options);
    await until(async () => runner.status().state === 'standby', 'standing by');
    expect(log).toEqual([]);
    await until(
      async () => (await checkpointOf(infra.db, durable, stream)) === last,
      'after the lease ran out',
    );
    const { rows } = await sql<{ holder: string }>`
      select holder from projection_leases where consumer = ${durable} and stream = ${stream}`.execute(
      infra.db,
    );
    expect(rows[0]!.holder).not.toBe('a-dead-instance');
    await runner.stop();
    // Released on stop: the next instance need not wait.
    const after = await sql<{ n: string }>`
      select count(*)::text as n from projection_leases where consumer = ${durable} and stream = ${stream}`.execute(
      infra.db,
    );
    expect(after.rows[0]!.n).toBe('0');
  });
});
