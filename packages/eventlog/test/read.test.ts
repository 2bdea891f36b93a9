import { streamName } from '@fundtrace/events';
import { staleStreamInfo, useTestInfra } from '@fundtrace/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  append,
  appendBatch,
  ensurePartitionStreams,
  lastSequence,
  type OutgoingMessage,
  PoisonEventError,
  readRange,
  readRangeMessagesMax,
  readStream,
  readStreamRaw,
  SequenceGapError,
} from '../src';
import { accountOpened, accountsOpened, partition, unknownTypeMessage } from './support/fixtures';

// Proves reading back: decoded events in sequence order within bounds, a read
// that ends at the tail it started with, and poison and gaps reported by sequence.
const infra = useTestInfra({ database: false });
let stream: string;
let written: OutgoingMessage[];

beforeAll(async () => {
  await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['ledger'] });
  stream = streamName('ledger', partition, infra.ns);
  written = accountsOpened(infra.ns, 'read', 50);
  await appendBatch(infra.js, { stream, messages: written, expectedLastSeq: 0 });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('readStream', () => {
  it('yields decoded events with sequence, subject, bytes and msg id, in order', async () => {
    const events = await collect(readStream(infra.js, { stream, fromSeq: 1 }));
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const third = events[2]!;
    expect(third.msgId).toBe('read:2');
    expect(third.subject).toBe(`${infra.ns}.ledger.${partition}.account.acc-read-2`);
    expect(third.event).toMatchObject({
      type: 'AccountOpened',
      data: { accountId: 'acc-read-2', kind: 'pool' },
    });
    expect(Buffer.from(third.bytes)).toEqual(Buffer.from(written[2]!.bytes));
  });

  it('honours fromSeq and toSeq, clamps toSeq to the tail, and yields nothing past the tail', async () => {
    expect(
      (await collect(readStream(infra.js, { stream, fromSeq: 10, toSeq: 12 }))).map((e) => e.seq),
    ).toEqual([10, 11, 12]);
    expect(
      (await collect(readStream(infra.js, { stream, fromSeq: 49, toSeq: 1_000 }))).map((e) => e.seq),
    ).toEqual([49, 50]);
    expect(await collect(readStream(infra.js, { stream, fromSeq: 51 }))).toEqual([]);
    expect(await collect(readStream(infra.js, { stream, fromSeq: 5, toSeq: 4 }))).toEqual([]);
  });

  it('ends at the tail it started with, even while a writer appends', async () => {
    const tailAtStart = await lastSequence(infra.jsm, stream);
    const seen: number[] = [];
    let appended = false;
    for await (const e of readStream(infra.js, { stream, fromSeq: tailAtStart - 2 })) {
      seen.push(e.seq);
      if (!appended) {
        appended = true;
        await append(infra.js, {
          stream,
          message: accountOpened(infra.ns, 'during-read', 0),
          expectedLastSeq: tailAtStart,
        });
      }
    }
    expect(seen).toEqual([tailAtStart - 2, tailAtStart - 1, tailAtStart]);
  });

  it('stops at an undecodable event with PoisonEventError naming stream and sequence; the raw read passes it', async () => {
    const tail = await lastSequence(infra.jsm, stream);
    await append(infra.js, {
      stream,
      message: unknownTypeMessage(infra.ns, 'future:0'),
      expectedLastSeq: tail,
    });
    const decoded = collect(readStream(infra.js, { stream, fromSeq: tail }));
    await expect(decoded).rejects.toBeInstanceOf(PoisonEventError);
    await expect(decoded).rejects.toMatchObject({ stream, seq: tail + 1 });
    const raw = await collect(readStreamRaw(infra.js, { stream, fromSeq: tail }));
    expect(raw.map((m) => m.msgId)).toEqual([raw[0]!.msgId, 'future:0']);
  });

  it('reports a hole in a stream as SequenceGapError', async () => {
    const loose = `${infra.ns}_HOLEY`;
    await infra.jsm.streams.add({ name: loose, subjects: [`${infra.ns}.holey.>`] });
    for (let i = 0; i < 4; i++) await infra.js.publish(`${infra.ns}.holey.x`, new Uint8Array([i]));
    await infra.jsm.streams.deleteMessage(loose, 2);
    await expect(collect(readStreamRaw(infra.js, { stream: loose, fromSeq: 1 }))).rejects.toMatchObject({
      name: 'SequenceGapError',
      missingSeq: 2,
      receivedSeq: 3,
    });
    await expect(collect(readStreamRaw(infra.js, { stream: loose, fromSeq: 1 }))).rejects.toBeInstanceOf(
      SequenceGapError,
    );
  });

  it('removes its ephemeral consumer when the reader stops early', async () => {
    const before = (await infra.jsm.streams.info(stream)).state.consumer_count;
    for await (const e of readStream(infra.js, { stream, fromSeq: 1 })) {
      if (e.seq === 3) break;
    }
    expect((await infra.jsm.streams.info(stream)).state.consumer_count).toBe(before);
  });

  it('refuses bad bounds', async () => {
    await expect(collect(readStream(infra.js, { stream, fromSeq: 0 }))).rejects.toBeInstanceOf(RangeError);
    await expect(collect(readStream(infra.js, { stream, fromSeq: 1, toSeq: -1 }))).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(
      readRange(infra.js, { stream, fromSeq: 1, toSeq: readRangeMessagesMax + 1 }),
    ).rejects.toBeInstanceOf(RangeError);
  });
});

describe('readStreamRaw with a stale stream info (a replica that just restarted, decision 0122)', () => {
  const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  let stale: string;

  beforeAll(async () => {
    stale = `${infra.ns}_STALE`;
    await infra.jsm.streams.add({ name: stale, subjects: [`${infra.ns}.stale.>`] });
    for (let i = 0; i < 30; i++) await infra.js.publish(`${infra.ns}.stale.x`, new Uint8Array([i]));
  });

  it('reads to the tail the consumer reports, not to the short tail stream info gave', async () => {
    const js = staleStreamInfo(infra.js, 12);
    expect(await lastSequence(await js.jetstreamManager(), stale)).toBe(18);
    const read = async (fromSeq: number, toSeq?: number) =>
      (
        await collect(
          readStreamRaw(js, { stream: stale, fromSeq, ...(toSeq === undefined ? {} : { toSeq }) }),
        )
      ).map((m) => m.seq);
    expect(await read(1)).toEqual(seqs(1, 30));
    expect(await read(10)).toEqual(seqs(10, 30));
    expect(await read(18)).toEqual(seqs(18, 30));
    // toSeq still bounds the read, and beyond the real tail it is clamped to it.
    expect(await read(10, 20)).toEqual(seqs(10, 20));
    expect(await read(15, 1_000)).toEqual(seqs(15, 30));
  });

  it('a stale tail before fromSeq: believed, unless the caller knows the stream goes further (atLeastSeq)', async () => {
    const js = staleStreamInfo(infra.js, 12);
    const read = async (fromSeq: number, atLeastSeq?: number, toSeq?: number) =>
      (
        await collect(
          readStreamRaw(js, {
            stream: stale,
            fromSeq,
            ...(atLeastSeq === undefined ? {} : { atLeastSeq }),
            ...(toSeq === undefined ? {} : { toSeq }),
          }),
        )
      ).map((m) => m.seq);
    expect(await read(20)).toEqual([]);
    // Told 25 (an append's conflict), the read reaches it, and the consumer's count takes it to 30.
    expect(await read(20, 25)).toEqual(seqs(20, 30));
    expect(await read(20, 25, 22)).toEqual(seqs(20, 22));
    // A fresh stream info is not lowered by a smaller atLeastSeq.
    expect(
      (await collect(readStreamRaw(infra.js, { stream: stale, fromSeq: 28, atLeastSeq: 3 }))).length,
    ).toBe(3);
    await expect(
      collect(readStreamRaw(js, { stream: stale, fromSeq: 1, atLeastSeq: -1 })),
    ).rejects.toBeInstanceOf(RangeError);
  });
});

describe('readRange', () => {
  it('returns the raw messages of a bounded range', async () => {
    const range = await readRange(infra.js, { stream, fromSeq: 20, toSeq: 24 });
    expect(range.map((m) => [m.seq, m.msgId])).toEqual([
      [20, 'read:19'],
      [21, 'read:20'],
      [22, 'read:21'],
      [23, 'read:22'],
      [24, 'read:23'],
    ]);
  });
});
