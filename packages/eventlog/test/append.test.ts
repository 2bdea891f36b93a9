import { streamName } from '@fundtrace/events';
import { connectTestNats, useTestInfra } from '@fundtrace/testkit';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppendConflictError,
  AppendRejectedError,
  append,
  appendBatch,
  BatchCutShortError,
  ensurePartitionStreams,
  jetStreamCodes,
  lastSequence,
  messageBytesMax,
  type OutgoingMessage,
  readRange,
} from '../src';
import { accountOpened, accountsOpened, partition } from './support/fixtures';

// Proves the append protocol against the machine's NATS: optimistic concurrency,
// deduplication, and that a pipelined batch is always stored as an exact prefix.
const infra = useTestInfra({ database: false });
let stream: string;
let nc2: NatsConnection;
let js2: JetStreamClient;

beforeAll(async () => {
  await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['ledger'] });
  stream = streamName('ledger', partition, infra.ns);
  nc2 = await connectTestNats('fundtrace-test-second-writer');
  js2 = jetstream(nc2);
});

afterAll(async () => {
  await nc2?.close();
});

async function tail(): Promise<number> {
  return lastSequence(infra.jsm, stream);
}

/** The msg ids stored in (from, to], read back from the stream itself. */
async function storedIds(fromExclusive: number, toInclusive: number): Promise<(string | undefined)[]> {
  if (toInclusive <= fromExclusive) return [];
  const messages = await readRange(infra.js, { stream, fromSeq: fromExclusive + 1, toSeq: toInclusive });
  return messages.map((m) => m.msgId);
}

/**
 * A client whose publish of the `at`-th message waits for `before()` first, keeping
 * every publish in call order: a deterministic way to land another writer's append
 * exactly between two messages of a pipelined batch.
 */
function interleaving(js: JetStreamClient, at: number, before: () => Promise<void>): JetStreamClient {
  let count = 0;
  let gate: Promise<void> = Promise.resolve();
  return new Proxy(js, {
    get(target, property, receiver) {
      if (property !== 'publish') return Reflect.get(target, property, receiver);
      return (...args: Parameters<JetStreamClient['publish']>) => {
        if (count++ === at) gate = gate.then(before);
        return gate.then(() => target.publish(...args));
      };
    },
  });
}

async function waitForTail(seq: number): Promise<void> {
  for (let i = 0; i < 500 && (await tail()) < seq; i++) await new Promise((r) => setTimeout(r, 10));
  expect(await tail()).toBe(seq);
}

describe('append (single)', () => {
  it('stores at expectedLastSeq + 1 and refuses a stale expectation with the actual tail', async () => {
    const start = await tail();
    const first = await append(infra.js, {
      stream,
      message: accountOpened(infra.ns, 'single-a', 0),
      expectedLastSeq: start,
    });
    expect(first).toEqual({ seq: start + 1, duplicate: false });

    const stale = append(infra.js, {
      stream,
      message: accountOpened(infra.ns, 'single-b', 0),
      expectedLastSeq: start,
    });
    await expect(stale).rejects.toBeInstanceOf(AppendConflictError);
    await expect(stale).rejects.toMatchObject({ stream, expectedLastSeq: start, actualLastSeq: start + 1 });
    expect(await tail()).toBe(start + 1);
  });

  it('expects an empty stream with 0, and a second writer expecting 0 loses', async () => {
    await ensurePartitionStreams(infra.jsm, { partition, ns: infra.ns, contexts: ['audit'] });
    const audit = streamName('audit', partition, infra.ns);
    const message = (id: string): OutgoingMessage => ({
      subject: `${infra.ns}.audit.${partition}.finding.${id}`,
      bytes: new TextEncoder().encode('{}'),
      msgId: id,
    });
    expect(await append(infra.js, { stream: audit, message: message('f1'), expectedLastSeq: 0 })).toEqual({
      seq: 1,
      duplicate: false,
    });
    await expect(
      append(infra.js, { stream: audit, message: message('f2'), expectedLastSeq: 0 }),
    ).rejects.toMatchObject({
      name: 'AppendConflictError',
      actualLastSeq: 1,
    });
  });

  it('stores the same msg id once and answers the repeat with the original sequence', async () => {
    const start = await tail();
    const message = accountOpened(infra.ns, 'dedup', 0);
    const first = await append(infra.js, { stream, message, expectedLastSeq: start });
    await append(infra.js, {
      stream,
      message: accountOpened(infra.ns, 'dedup-other', 0),
      expectedLastSeq: start + 1,
    });
    // The repeat carries a stale expectation on purpose: deduplication answers first.
    const repeat = await append(infra.js, { stream, message, expectedLastSeq: start });
    expect(repeat).toEqual({ seq: first.seq, duplicate: true });
    expect(await storedIds(start, await tail())).toEqual(['dedup:0', 'dedup-other:0']);
  });

  it('lets exactly one of two writers racing on the same expected sequence win, every time', async () => {
    for (let round = 0; round < 20; round++) {
      const start = await tail();
      const results = await Promise.allSettled([
        append(infra.js, {
          stream,
          message: accountOpened(infra.ns, `race-a-${round}`, 0),
          expectedLastSeq: start,
        }),
        append(js2, {
          stream,
          message: accountOpened(infra.ns, `race-b-${round}`, 0),
          expectedLastSeq: start,
        }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(AppendConflictError);
      expect((won[0] as PromiseFulfilledResult<{ seq: number }>).value.seq).toBe(start + 1);
      expect(await tail()).toBe(start + 1);
    }
  });

  it('rejects a message over the stream size limit as AppendRejectedError 10054, storing nothing', async () => {
    const start = await tail();
    const big = { ...accountOpened(infra.ns, 'too-big', 0), bytes: new Uint8Array(messageBytesMax + 1) };
    await expect(append(infra.js, { stream, message: big, expectedLastSeq: start })).rejects.toMatchObject({
      name: 'AppendRejectedError',
      code: jetStreamCodes.messageTooLarge,
    });
    expect(await tail()).toBe(start);
  });

  it('reports a subject no stream captures as a rejection (once "no responders" outlasts its wait), not as an unknown outcome', async () => {
    const message = {
      subject: `${infra.ns}.nowhere.${partition}.x.y`,
      bytes: new Uint8Array([1]),
      msgId: 'nowhere',
    };
    const refused = append(infra.js, { stream, message, expectedLastSeq: 0, noRespondersRetryMs: 200 });
    await expect(refused).rejects.toBeInstanceOf(AppendRejectedError);
    // The wait it outlasted is named, for an operator telling an election from a wrong subject.
    await expect(refused).rejects.toThrow(/no stream captures the subject, or .* noRespondersRetryMs/);
  });

  it('refuses invalid arguments before touching the server', async () => {
    const message = accountOpened(infra.ns, 'args', 0);
    await expect(append(infra.js, { stream, message, expectedLastSeq: -1 })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(append(infra.js, { stream, message, expectedLastSeq: 1.5 })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(
      append(infra.js, { stream, message: { ...message, msgId: '' }, expectedLastSeq: 0 }),
    ).rejects.toBeInstanceOf(RangeError);
  });
});

describe('appendBatch (pipelined)', () => {
  it('stores a burst at consecutive sequences, in order, with a window smaller than the batch', async () => {
    const start = await tail();
    const messages = accountsOpened(infra.ns, 'burst', 300);
    const result = await appendBatch(infra.js, { stream, messages, expectedLastSeq: start, inFlightMax: 64 });
    expect(result.lastSeq).toBe(start + 300);
    expect(result.stored.map((s) => s.seq)).toEqual(messages.map((_, i) => start + i + 1));
    expect(result.stored.every((s) => !s.duplicate)).toBe(true);
    const back = await readRange(infra.js, { stream, fromSeq: start + 1, toSeq: start + 300 });
    expect(back.map((m) => m.msgId)).toEqual(messages.map((m) => m.msgId));
    expect(back.map((m) => Buffer.from(m.bytes))).toEqual(messages.map((m) => Buffer.from(m.bytes)));
  });

  it('a message over the size limit at index k: exactly 0..k-1 stored, nothing after', async () => {
    const start = await tail();
    const k = 7;
    const messages = accountsOpened(infra.ns, 'oversize', 20);
    messages[k] = { ...messages[k]!, bytes: new Uint8Array(messageBytesMax + 1) };
    const error = await appendBatch(infra.js, { stream, messages, expectedLastSeq: start }).catch((e) => e);
    expect(error).toBeInstanceOf(BatchCutShortError);
    expect(error.firstFailedIndex).toBe(k);
    expect(error.cause).toBeInstanceOf(AppendRejectedError);
    expect(error.cause.code).toBe(jetStreamCodes.messageTooLarge);
    expect(error.stored).toEqual(
      messages.slice(0, k).map((_, index) => ({ index, seq: start + index + 1, duplicate: false })),
    );
    expect(await tail()).toBe(start + k);
    expect(await storedIds(start, start + k)).toEqual(messages.slice(0, k).map((m) => m.msgId));
  });

  it('another writer sneaking in mid-batch: the prefix is stored, and no later message fills the slot after it', async () => {
    const start = await tail();
    const k = 5;
    const messages = accountsOpened(infra.ns, 'sneaked', 12);
    const sneaker = accountOpened(infra.ns, 'sneaker', 0);
    const js = interleaving(infra.js, k, async () => {
      // Wait until 0..k-1 are stored, then take slot k from another connection.
      await waitForTail(start + k);
      await append(js2, { stream, message: sneaker, expectedLastSeq: start + k });
    });
    const error = await appendBatch(js, { stream, messages, expectedLastSeq: start }).catch((e) => e);
    expect(error).toBeInstanceOf(BatchCutShortError);
    expect(error.firstFailedIndex).toBe(k);
    expect(error.cause).toBeInstanceOf(AppendConflictError);
    expect(error.cause.actualLastSeq).toBe(start + k + 1);
    expect(error.stored.map((s: { seq: number }) => s.seq)).toEqual(
      messages.slice(0, k).map((_, i) => start + i + 1),
    );
    // Message k+1 expected exactly the sneaker's sequence; only the msg-id chain kept it out.
    expect(await tail()).toBe(start + k + 1);
    expect(await storedIds(start, start + k + 1)).toEqual([
      ...messages.slice(0, k).map((m) => m.msgId),
      'sneaker:0',
    ]);
  });

  it('a batch decided against a stale tail stores nothing, although message 1 expects the actual tail', async () => {
    const start = await tail();
    await append(js2, { stream, message: accountOpened(infra.ns, 'first-come', 0), expectedLastSeq: start });
    const messages = accountsOpened(infra.ns, 'stale-batch', 10);
    const error = await appendBatch(infra.js, { stream, messages, expectedLastSeq: start }).catch((e) => e);
    expect(error).toBeInstanceOf(BatchCutShortError);
    expect(error.firstFailedIndex).toBe(0);
    expect(error.stored).toEqual([]);
    expect(await tail()).toBe(start + 1);
  });

  it('a retried batch maps stored messages to their original sequences and completes the rest', async () => {
    const start = await tail();
    const k = 4;
    const messages = accountsOpened(infra.ns, 'retried', 10);
    const broken = messages.map((m, i) =>
      i === k ? { ...m, bytes: new Uint8Array(messageBytesMax + 1) } : m,
    );
    await expect(
      appendBatch(infra.js, { stream, messages: broken, expectedLastSeq: start }),
    ).rejects.toBeInstanceOf(BatchCutShortError);
    const retry = await appendBatch(infra.js, { stream, messages, expectedLastSeq: start });
    expect(retry.stored).toEqual(
      messages.map((_, index) => ({ index, seq: start + index + 1, duplicate: index < k })),
    );
    const again = await appendBatch(infra.js, { stream, messages, expectedLastSeq: start });
    expect(again.stored.every((s) => s.duplicate)).toBe(true);
    expect(again.stored.map((s) => s.seq)).toEqual(retry.stored.map((s) => s.seq));
    expect(await tail()).toBe(start + 10);
    expect(await storedIds(start, start + 10)).toEqual(messages.map((m) => m.msgId));
  });

  it('refuses an empty batch, a repeated msg id and a bad window', async () => {
    const one = accountOpened(infra.ns, 'bad-batch', 0);
    await expect(appendBatch(infra.js, { stream, messages: [], expectedLastSeq: 0 })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(
      appendBatch(infra.js, { stream, messages: [one, one], expectedLastSeq: 0 }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      appendBatch(infra.js, { stream, messages: [one], expectedLastSeq: 0, inFlightMax: 0 }),
    ).rejects.toBeInstanceOf(RangeError);
  });
});
