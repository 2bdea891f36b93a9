import { hookStreamReads, type PrivateNats, startPrivateNats, waitUntil } from '@fundtrace/testkit';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  appendBatch,
  connectNats,
  ensurePartitionStreams,
  type RawStreamMessage,
  readBatchMessagesMax,
  readStreamRaw,
  StreamReadStalledError,
} from '../src';
import { accountsOpened, partition } from './support/fixtures';

// A stream read whose server stops answering ends with StreamReadStalledError instead of waiting
// forever, and the same read completes once the server is back (decision 0127). A private
// nats-server is frozen (SIGSTOP) at an exact point of the read. Without the idle bound each of
// these reads hangs: the tests have a small timeout so that shows as a failure.

/** Each test's bound: a hang without the idle bound fails here, well before vitest's default. */
const testTimeoutMs = 60_000;
/**
 * More than the client can hold before its first message reaches the reader: it asks for at most
 * `readBatchMessagesMax` at a time, and asks again only as the reader takes them. So once the server
 * is frozen at the first message, the rest can only come from it.
 */
const total = readBatchMessagesMax * 3;
/** The bound the stalled reads are given (the default, 5 s, is what the read after resume uses). */
const idleMs = 2_000;
const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let nats: PrivateNats;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let stream: string;

async function collect(iterable: AsyncIterable<RawStreamMessage>): Promise<number[]> {
  const seen: number[] = [];
  for await (const m of iterable) seen.push(m.seq);
  return seen;
}

/** Waits (bounded) until the stream has no consumer left: the stalled read's was deleted. */
async function noConsumersLeft(): Promise<void> {
  await waitUntil(
    async () => (await jsm.streams.info(stream)).state.consumer_count === 0,
    30_000,
    () => `${stream} still has a read's consumer`,
  );
}

beforeAll(async () => {
  nats = await startPrivateNats({ jetstream: true });
  nc = await connectNats(nats.url, { name: 'read-stall' });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  [stream] = (await ensurePartitionStreams(jsm, { partition, ns: 'stall', contexts: ['ledger'] })) as [
    string,
  ];
  await appendBatch(js, { stream, messages: accountsOpened('stall', 'stall', total), expectedLastSeq: 0 });
}, 120_000);

afterEach(() => {
  // A failed test must not leave the server frozen for the next one.
  nats?.nodes[0]?.resume();
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('a stream read whose server stops answering (decision 0127)', () => {
  it(
    'frozen after the first message: StreamReadStalledError naming the sequence it waited for; after resume the read completes',
    async () => {
      const node = nats.nodes[0]!;
      const seen: number[] = [];
      const stalled = await (async () => {
        for await (const m of readStreamRaw(js, { stream, fromSeq: 1, toSeq: total, idleMs })) {
          seen.push(m.seq);
          if (seen.length === 1) await node.pause();
        }
      })().catch((error: unknown) => error);
      node.resume();

      expect(stalled).toBeInstanceOf(StreamReadStalledError);
      // What came before the stall is the stream's, in order; the read stopped where it waited.
      expect(seen).toEqual(seqs(1, seen.length));
      expect(seen.length).toBeLessThan(total);
      expect(stalled).toMatchObject({ stream, waitingForSeq: seen.length + 1, toSeq: total, idleMs });

      expect(await collect(readStreamRaw(js, { stream, fromSeq: 1, toSeq: total }))).toEqual(seqs(1, total));
      await noConsumersLeft();
    },
    testTimeoutMs,
  );

  it(
    'frozen once its consumer exists, before any message: stalls at fromSeq; after resume the read completes',
    async () => {
      const node = nats.nodes[0]!;
      const frozen = hookStreamReads(js, stream, { created: () => node.pause() });
      const stalled = await collect(readStreamRaw(frozen, { stream, fromSeq: 10, idleMs })).catch(
        (error: unknown) => error,
      );
      node.resume();

      expect(stalled).toBeInstanceOf(StreamReadStalledError);
      expect(stalled).toMatchObject({ stream, waitingForSeq: 10, toSeq: total });
      expect(await collect(readStreamRaw(js, { stream, fromSeq: 10 }))).toEqual(seqs(10, total));
      await noConsumersLeft();
    },
    testTimeoutMs,
  );

  it(
    'is not stalled by a reader slower than the bound: only waiting for the server counts',
    async () => {
      const slow: number[] = [];
      for await (const m of readStreamRaw(js, { stream, fromSeq: 1, idleMs: 1_000 })) {
        slow.push(m.seq);
        // The caller's own work between two messages (here a pause of 2.5 bounds) is not a stall.
        if (m.seq === 1) await new Promise((resolve) => setTimeout(resolve, 2_500));
      }
      expect(slow).toEqual(seqs(1, total));
    },
    testTimeoutMs,
  );

  it(
    'is not stalled when this process was too busy to read what the server sent meanwhile',
    async () => {
      // The event loop is blocked for longer than the bound while the first message is on its way:
      // when it runs again, the bound's timer is due before the socket is read. The message was
      // there all along, so the read must go on.
      const busyMs = 5_000;
      let blocked = false;
      const busy = hookStreamReads(js, stream, {
        waiting: () => {
          if (blocked) return;
          blocked = true;
          setImmediate(() => {
            const until = Date.now() + busyMs;
            while (Date.now() < until) {}
          });
        },
      });
      expect(await collect(readStreamRaw(busy, { stream, fromSeq: 1, toSeq: 3, idleMs: 1_000 }))).toEqual([
        1, 2, 3,
      ]);
      expect(blocked).toBe(true);
    },
    testTimeoutMs,
  );

  it('refuses an idle bound that is not a positive integer', async () => {
    await expect(collect(readStreamRaw(js, { stream, fromSeq: 1, idleMs: 0 }))).rejects.toBeInstanceOf(
      RangeError,
    );
  });
});
