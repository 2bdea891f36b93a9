import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Database } from '@fundtrace/db';
import { connectTestNats, useTestInfra } from '@fundtrace/testkit';
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { sql } from 'kysely';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  appendBatch,
  ensurePartitionStreams,
  lastSequence,
  PoisonEventError,
  ProjectionHandlerError,
  projectionBatchesInFlight,
  projectionBatchMessagesMax,
  type RunProjectionOptions,
  runProjection,
  SequenceGapError,
} from '../src';
import { appliedCounts, checkpointOf, recordApplied } from './support/applied-table';
import { accountsOpened, partition, unknownTypeMessage, until } from './support/fixtures';
import { useLedgerStream } from './support/ledger-stream';

// Proves the projection runner against the machine's NATS and PostgreSQL: batches
// and checkpoint in one transaction, ack after commit, replays that apply nothing,
// and stops that name stream and sequence for poison events and gaps.
const infra = useTestInfra();
const ledger = useLedgerStream(infra);
let stream: string;

beforeAll(() => {
  stream = ledger.name;
});

/** Fast settings for tests; the redelivery wait is short so a crash test does not wait 30 s. */
function options(
  durable: string,
  extra: Partial<RunProjectionOptions<Database>> = {},
): RunProjectionOptions<Database> {
  return {
    nc: infra.nc,
    db: infra.db,
    stream,
    durable,
    batchSize: 10,
    maxWaitMs: 1_000,
    ackWaitMs: 2_000,
    handler: recordApplied(durable),
    ...extra,
  };
}

const appendEvents = (commandId: string, count: number): Promise<number> => ledger.append(commandId, count);

describe('runProjection', () => {
  it('applies every event once in order, keeps up with new appends, reports lag, and stops gracefully', async () => {
    const durable = 'steady';
    const first = await appendEvents('steady-1', 25);
    const runner = runProjection(options(durable));
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === first, 'first events');
    const last = await appendEvents('steady-2', 7);
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'new events');
    expect(await runner.lag()).toEqual({
      stream,
      consumer: durable,
      lastStreamSeq: last,
      checkpoint: last,
      lag: 0,
    });
    await runner.stop();
    await expect(runner.done).resolves.toBeUndefined();
    expect(runner.status().state).toBe('stopped');
    const counts = await appliedCounts(infra.db, durable);
    expect(counts).toEqual({ rows: last, distinct: last, maxSeq: last });
    // Sequence order: rows were inserted in ascending seq (ctid order within one table).
    const { rows } = await sql<{
      seq: string;
    }>`select seq::text as seq from applied where consumer = ${durable}`.execute(infra.db);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  });

  it('asks the server to confirm one ack per batch, the last, after plain acks of the rest', async () => {
    const durable = 'one-confirm';
    const last = await appendEvents('one-confirm', 35);
    // Another connection sees every ack the runner sends to the consumer: a plain ack has no reply
    // subject, a confirmed one (ackAck, a nats-core request) has one.
    const watcher = await connectTestNats('ack-watcher');
    const seen: Array<{ subject: string; reply: string | undefined }> = [];
    watcher.subscribe(`$JS.ACK.${stream}.${durable}.>`, {
      callback: (_error, m) => {
        seen.push({ subject: m.subject, reply: m.reply });
      },
    });
    await watcher.flush();
    const runner = runProjection(options(durable));
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'every event');
    await runner.stop();
    await until(async () => (await infra.jsm.consumers.info(stream, durable)).num_ack_pending === 0, 'acks');
    await watcher.flush();
    await watcher.close();
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
    expect(seen.every((m) => m.subject.split('.').length === 9)).toBe(true);
    const acks = seen.map((m) => ({ seq: Number(m.subject.split('.')[5]), confirmed: Boolean(m.reply) }));

    expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: last }, (_, i) => i + 1),
    );
    // Batches of at most 10: at least ceil(last / 10) confirmations, each closing its batch (the
    // highest sequence acked since the one before), and nothing acked after the final one.
    const confirmed = acks.filter((a) => a.confirmed);
    expect(confirmed.length).toBeGreaterThanOrEqual(Math.ceil(last / 10));
    expect(confirmed.length).toBeLessThan(acks.length / 2);
    expect(acks.at(-1)!.confirmed).toBe(true);
    let batchMax = 0;
    for (const a of acks) {
      batchMax = Math.max(batchMax, a.seq);
      if (a.confirmed) {
        expect(a.seq).toBe(batchMax);
        batchMax = 0;
      }
    }
  });

  it('reports lag before catching up', async () => {
    const durable = 'laggard';
    const last = await lastSequence(infra.jsm, stream);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runner = runProjection({ ...options(durable), handler: () => held });
    expect(await runner.lag()).toMatchObject({ lastStreamSeq: last, checkpoint: 0, lag: last });
    expect(runner.status().checkpoint).toBeUndefined();
    release();
    await runner.stop();
    expect(await checkpointOf(infra.db, durable, stream)).toBeGreaterThan(0);
  });

  it('does not re-apply a batch whose commit happened but whose ack never left (process SIGKILLed in between)', async () => {
    const durable = 'crashy';
    const last = await appendEvents('crashy', 5);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./support/projection-child.ts', import.meta.url)),
        'nats://127.0.0.1:4222',
        infra.databaseUrl,
        stream,
        durable,
        '2000',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    expect(exit, output).toBe('SIGKILL');
    expect(output).toMatch(/committed 1\.\.10/);
    // The dead process committed the first batch and never acked it (nor the next one, which
    // it had already pulled: projectionBatchesInFlight batches may be outstanding).
    expect(await checkpointOf(infra.db, durable, stream)).toBe(10);
    const info = await infra.jsm.consumers.info(stream, durable);
    expect(info.num_ack_pending).toBeGreaterThanOrEqual(10);
    expect(info.num_ack_pending).toBeLessThanOrEqual(10 * projectionBatchesInFlight);

    const runner = runProjection(options(durable));
    await until(
      async () => (await checkpointOf(infra.db, durable, stream)) === last,
      'the rest after the crash',
    );
    // The redelivered batch was acked without applying anything.
    await until(async () => (await infra.jsm.consumers.info(stream, durable)).num_ack_pending === 0, 'acks');
    await runner.stop();
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: last, distinct: last, maxSeq: last });
  });

  it('does not re-apply after the NATS connection is lost between commit and ack', async () => {
    const durable = 'disconnected';
    const last = await lastSequence(infra.jsm, stream);
    const doomed = await connectTestNats('doomed-projector');
    let commits = 0;
    const first = runProjection({
      ...options(durable),
      nc: doomed,
      afterCommit: async () => {
        commits++;
        await doomed.close();
      },
    });
    await expect(first.done).rejects.toThrow(/closed/);
    expect(commits).toBe(1);
    expect(await checkpointOf(infra.db, durable, stream)).toBe(10);

    const second = runProjection(options(durable));
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'catch-up');
    await until(async () => (await infra.jsm.consumers.info(stream, durable)).num_ack_pending === 0, 'acks');
    await second.stop();
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: last, distinct: last, maxSeq: last });
  });

  it('starts a new durable right after an existing checkpoint', async () => {
    const durable = 'resumed';
    const last = await lastSequence(infra.jsm, stream);
    await sql`insert into projection_checkpoints (consumer, stream, last_seq) values (${durable}, ${stream}, ${last - 3})`.execute(
      infra.db,
    );
    const runner = runProjection(options(durable));
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'the last three');
    await runner.stop();
    const counts = await appliedCounts(infra.db, durable);
    expect(counts).toEqual({ rows: 3, distinct: 3, maxSeq: last });
  });

  it('applies nothing twice when two runners share one durable', async () => {
    const durable = 'pair';
    const last = await appendEvents('pair', 40);
    const a = runProjection(options(durable));
    const b = runProjection(options(durable));
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'both runners');
    await Promise.all([a.stop(), b.stop()]);
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: last, distinct: last, maxSeq: last });
  });

  it('stops on a handler failure, naming the sequences, with nothing of the batch committed', async () => {
    const durable = 'failing';
    const runner = runProjection({
      ...options(durable),
      handler: async (trx, events) => {
        await recordApplied<Database>(durable)(trx, events);
        if (events.some((e) => e.seq === 13)) throw new Error('projection bug');
      },
    });
    const error = await runner.done.catch((e) => e);
    expect(error).toBeInstanceOf(ProjectionHandlerError);
    expect(error).toMatchObject({ stream, firstSeq: 11, lastSeq: 20 });
    expect(runner.status().state).toBe('failed');
    expect(await checkpointOf(infra.db, durable, stream)).toBe(10);
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: 10, distinct: 10, maxSeq: 10 });
  });

  it('stops at a poison event with its stream and sequence, applies what came before, and never acks it', async () => {
    const durable = 'poisoned';
    const before = await appendEvents('before-poison', 2);
    await appendBatch(infra.js, {
      stream,
      messages: [unknownTypeMessage(infra.ns, 'poison:0')],
      expectedLastSeq: before,
    });
    const poisonSeq = before + 1;
    await appendEvents('after-poison', 2);
    await sql`insert into projection_checkpoints (consumer, stream, last_seq) values (${durable}, ${stream}, ${before - 4})`.execute(
      infra.db,
    );
    const errors: unknown[] = [];
    const runner = runProjection({ ...options(durable), onError: (e) => errors.push(e) });
    const error = await runner.done.catch((e) => e);
    expect(error).toBeInstanceOf(PoisonEventError);
    expect(error).toMatchObject({ stream, seq: poisonSeq });
    expect(error.message).toContain(`${stream} sequence ${poisonSeq}`);
    expect(errors).toEqual([error]);
    expect(await checkpointOf(infra.db, durable, stream)).toBe(before);
    expect(await appliedCounts(infra.db, durable)).toMatchObject({ rows: 4, maxSeq: before });

    // A restarted runner meets the same event again: it was not acked, not skipped.
    const again = runProjection({ ...options(durable), ackWaitMs: 1_000 });
    await expect(again.done).rejects.toMatchObject({ name: 'PoisonEventError', seq: poisonSeq });
    expect(await checkpointOf(infra.db, durable, stream)).toBe(before);
  });

  it('stops at a real gap (a message deleted from a stream that allowed it), naming the missing sequence', async () => {
    const loose = `${infra.ns}_LOOSE`;
    await infra.jsm.streams.add({
      name: loose,
      subjects: [`${infra.ns}.loose.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
    });
    const messages = accountsOpened(infra.ns, 'gap', 6).map((m) => ({
      ...m,
      subject: `${infra.ns}.loose.x`,
    }));
    await appendBatch(infra.js, { stream: loose, messages, expectedLastSeq: 0 });
    await infra.jsm.streams.deleteMessage(loose, 4);
    const runner = runProjection({ ...options('gappy'), stream: loose });
    const error = await runner.done.catch((e) => e);
    expect(error).toBeInstanceOf(SequenceGapError);
    expect(error).toMatchObject({ stream: loose, missingSeq: 4, receivedSeq: 5 });
    expect(await checkpointOf(infra.db, 'gappy', loose)).toBe(0);
  });

  it('stop() finishes the batch in hand (committed and acked) before it resolves', async () => {
    const durable = 'draining';
    const last = await appendEvents('draining', 5);
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await sql`insert into projection_checkpoints (consumer, stream, last_seq) values (${durable}, ${stream}, ${last - 5})`.execute(
      infra.db,
    );
    const runner = runProjection({
      ...options(durable),
      handler: async (trx, events) => {
        entered();
        await held;
        await recordApplied<Database>(durable)(trx, events);
      },
    });
    await inHandler;
    const stopped = runner.stop();
    expect(runner.status().state).toBe('stopping');
    release();
    await stopped;
    expect(runner.status().state).toBe('stopped');
    expect(await checkpointOf(infra.db, durable, stream)).toBe(last);
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: 5, distinct: 5, maxSeq: last });
    expect((await infra.jsm.consumers.info(stream, durable)).num_ack_pending).toBe(0);
  });

  it('logs stream, consumer and sequences, never an event payload, even at trace level and on poison', async () => {
    const durable = 'logged';
    // A stream of its own (nested under the file's namespace, so cleaned up with it):
    // a few real events, then a poison one.
    const ns = `${infra.ns}_l`;
    const [own] = await ensurePartitionStreams(infra.jsm, { partition, ns, contexts: ['ledger'] });
    const good = await appendBatch(infra.js, {
      stream: own!,
      messages: accountsOpened(ns, 'logged', 12),
      expectedLastSeq: 0,
    });
    await appendBatch(infra.js, {
      stream: own!,
      messages: [unknownTypeMessage(ns, 'logged-poison:0')],
      expectedLastSeq: good.lastSeq,
    });
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
    const runner = runProjection({ ...options(durable), stream: own!, logger });
    await expect(runner.done).rejects.toBeInstanceOf(PoisonEventError);
    expect(await checkpointOf(infra.db, durable, own!)).toBe(12);
    const text = lines.join('');
    expect(text).toContain(`"stream":"${own}"`);
    expect(text).toContain('"lastSeq"');
    expect(text).toContain('cannot be decoded');
    // Account names (账户 …), ids, the actor's organisation and the poison's data are payload.
    for (const secret of ['账户', 'acc-', '内乡县财政局', 'at all']) expect(text).not.toContain(secret);
  });

  it('keeps going when an afterCommit observer throws: the batch is committed either way', async () => {
    const durable = 'observed';
    const last = await appendEvents('observed', 3);
    await sql`insert into projection_checkpoints (consumer, stream, last_seq) values (${durable}, ${stream}, ${last - 3})`.execute(
      infra.db,
    );
    let calls = 0;
    const runner = runProjection({
      ...options(durable),
      afterCommit: () => {
        calls++;
        throw new Error('metrics exporter down');
      },
    });
    await until(async () => (await checkpointOf(infra.db, durable, stream)) === last, 'the batch');
    await until(async () => (await infra.jsm.consumers.info(stream, durable)).num_ack_pending === 0, 'acks');
    await runner.stop();
    await expect(runner.done).resolves.toBeUndefined();
    expect(calls).toBe(1);
    expect(await appliedCounts(infra.db, durable)).toEqual({ rows: 3, distinct: 3, maxSeq: last });
  });

  it('refuses bad settings up front', () => {
    expect(() => runProjection({ ...options('bad'), batchSize: 0 })).toThrow(RangeError);
    expect(() => runProjection({ ...options('bad'), batchSize: projectionBatchMessagesMax + 1 })).toThrow(
      RangeError,
    );
    expect(() => runProjection({ ...options('bad'), maxWaitMs: 999 })).toThrow(RangeError);
    expect(() => runProjection({ ...options('bad'), ackWaitMs: 500 })).toThrow(RangeError);
    expect(() => runProjection({ ...options('bad.name') })).toThrow(RangeError);
  });
});
