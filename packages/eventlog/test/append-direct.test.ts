import { startPrivateNats, useTestInfra } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AppendConflictError,
  AppendRejectedError,
  append,
  appendBatch,
  BatchCutShortError,
  BatchOutcomeUnknownError,
  connectNats,
  lastSequence,
  messageBytesMax,
  noStreamCode,
  type OutgoingMessage,
  readRange,
} from '../src';
import { until } from './support/fixtures';

// appendBatch with `connection` (decision 0035): plain publishes whose acks come back on one
// subscription, instead of one js.publish request per message. The same protocol must hold: the
// same sequences, the same exact-prefix guarantee, the same errors. The property test runs random
// batches through both paths against twin streams and compares everything they report and store.
const infra = useTestInfra({ database: false });
let streams = 0;

/** A fresh stream of its own (the subjects `<ns>.d<n>.>`), so both paths start from the same tail. */
async function freshStream(): Promise<{ name: string; subject: (i: number) => string }> {
  const n = ++streams;
  const name = `${infra.ns}_DIRECT${n}`;
  await infra.jsm.streams.add({ name, subjects: [`${infra.ns}.d${n}.>`], duplicate_window: 60_000_000_000 });
  return { name, subject: (i) => `${infra.ns}.d${n}.e.${i}` };
}

function messagesFor(subject: (i: number) => string, commandId: string, count: number): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    subject: subject(i),
    bytes: new TextEncoder().encode(`{"command":"${commandId}","index":${i}}`),
    msgId: `${commandId}:${i}`,
  }));
}

/** Whatever a batch reports, as plain data both paths can be compared on. */
async function outcomeOf(run: Promise<{ stored: readonly unknown[]; lastSeq: number }>) {
  try {
    const result = await run;
    return { ok: true, stored: result.stored, lastSeq: result.lastSeq };
  } catch (error) {
    if (error instanceof BatchCutShortError) {
      const cause = error.cause as AppendConflictError | AppendRejectedError;
      return {
        ok: false,
        kind: 'cut short',
        stored: error.stored,
        firstFailedIndex: error.firstFailedIndex,
        cause: cause.name,
        code: cause instanceof AppendRejectedError ? cause.code : undefined,
        actualLastSeq: cause instanceof AppendConflictError ? cause.actualLastSeq : undefined,
        expectedLastSeq: cause instanceof AppendConflictError ? cause.expectedLastSeq : undefined,
      };
    }
    throw error;
  }
}

describe('appendBatch over the connection (direct publishes)', () => {
  it('stores a burst at consecutive sequences, in order, with a window smaller than the batch', async () => {
    const { name, subject } = await freshStream();
    const messages = messagesFor(subject, 'burst', 500);
    const result = await appendBatch(infra.js, {
      stream: name,
      messages,
      expectedLastSeq: 0,
      inFlightMax: 64,
      connection: infra.nc,
    });
    expect(result.stored).toEqual(messages.map((_, index) => ({ index, seq: index + 1, duplicate: false })));
    const back = await readRange(infra.js, { stream: name, fromSeq: 1, toSeq: 500 });
    expect(back.map((m) => m.msgId)).toEqual(messages.map((m) => m.msgId));
    expect(back.map((m) => Buffer.from(m.bytes))).toEqual(messages.map((m) => Buffer.from(m.bytes)));
  });

  it('batches in flight together on one connection share its ack inbox and each gets its own acks', async () => {
    const streams = await Promise.all([freshStream(), freshStream(), freshStream()]);
    const results = await Promise.all(
      streams.map(({ name, subject }, i) =>
        appendBatch(infra.js, {
          stream: name,
          messages: messagesFor(subject, `together${i}`, 50 + i * 25),
          expectedLastSeq: 0,
          inFlightMax: 16,
          connection: infra.nc,
        }),
      ),
    );
    results.forEach((result, i) => {
      expect(result.stored).toEqual(
        Array.from({ length: 50 + i * 25 }, (_, index) => ({ index, seq: index + 1, duplicate: false })),
      );
    });
    for (const [i, { name }] of streams.entries()) {
      const back = await readRange(infra.js, { stream: name, fromSeq: 1, toSeq: 50 + i * 25 });
      expect(back.every((m) => m.msgId?.startsWith(`together${i}:`))).toBe(true);
    }
  });

  it('another writer sneaking in mid-batch: the prefix is stored, and no later message fills the slot after it', async () => {
    const { name, subject } = await freshStream();
    const k = 5;
    const messages = messagesFor(subject, 'sneaked', 12);
    // Hold back the publish of message k until 0..k-1 are stored and another append took slot k.
    let count = 0;
    let gate: Promise<void> = Promise.resolve();
    const nc = new Proxy(infra.nc, {
      get(target, property, receiver) {
        if (property !== 'publish') return Reflect.get(target, property, receiver);
        return (...args: Parameters<NatsConnection['publish']>) => {
          if (count++ === k) {
            gate = gate.then(async () => {
              for (let i = 0; i < 500 && (await lastSequence(infra.jsm, name)) < k; i++)
                await new Promise((r) => setTimeout(r, 10));
              await append(infra.js, {
                stream: name,
                message: messagesFor(subject, 'sneaker', 1)[0]!,
                expectedLastSeq: k,
              });
            });
          }
          void gate.then(() => target.publish(...args));
        };
      },
    });
    const error = await appendBatch(infra.js, {
      stream: name,
      messages,
      expectedLastSeq: 0,
      connection: nc,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(BatchCutShortError);
    expect(error.firstFailedIndex).toBe(k);
    expect(error.cause).toBeInstanceOf(AppendConflictError);
    expect(error.cause.actualLastSeq).toBe(k + 1);
    expect(error.stored.map((s: { seq: number }) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    const back = await readRange(infra.js, { stream: name, fromSeq: 1, toSeq: k + 1 });
    expect(back.map((m) => m.msgId)).toEqual([...messages.slice(0, k).map((m) => m.msgId), 'sneaker:0']);
    expect(await lastSequence(infra.jsm, name)).toBe(k + 1);
  });

  it('a lost race whose winner stored the same later messages (one command sent to two writers): cut short, not an invariant error', async () => {
    for (const connection of [{}, { connection: infra.nc }]) {
      const { name, subject } = await freshStream();
      const messages = messagesFor(subject, 'same', 4);
      // The other writer stored the same command's events 1..3 first (after its own 0).
      await appendBatch(infra.js, {
        stream: name,
        messages: [messagesFor(subject, 'other', 1)[0]!, ...messages.slice(1)],
        expectedLastSeq: 0,
      });
      const error = await appendBatch(infra.js, {
        stream: name,
        messages,
        expectedLastSeq: 0,
        ...connection,
      }).catch((e) => e);
      expect(error).toBeInstanceOf(BatchCutShortError);
      expect(error.firstFailedIndex).toBe(0);
      expect(error.cause).toBeInstanceOf(AppendConflictError);
      expect(await lastSequence(infra.jsm, name)).toBe(4);
    }
  });

  it('a subject no stream captures: refused at index 0 once "no responders" outlasts its wait, as js.publish reports it', async () => {
    const messages = messagesFor((i) => `${infra.ns}.nowhere.${i}`, 'lost', 3);
    const direct = await appendBatch(infra.js, {
      stream: `${infra.ns}_NOWHERE`,
      messages,
      expectedLastSeq: 0,
      connection: infra.nc,
      noRespondersRetryMs: 300,
    }).catch((e) => e);
    const viaRequests = await appendBatch(infra.js, {
      stream: `${infra.ns}_NOWHERE`,
      messages,
      expectedLastSeq: 0,
      noRespondersRetryMs: 0,
    }).catch((e) => e);
    const single = await append(infra.js, {
      stream: `${infra.ns}_NOWHERE`,
      message: messages[0]!,
      expectedLastSeq: 0,
      noRespondersRetryMs: 300,
    }).catch((e) => e);
    expect(single).toBeInstanceOf(AppendRejectedError);
    expect(single.code).toBe(noStreamCode);
    for (const error of [direct, viaRequests]) {
      expect(error).toBeInstanceOf(BatchCutShortError);
      expect(error.firstFailedIndex).toBe(0);
      expect(error.cause).toBeInstanceOf(AppendRejectedError);
      expect(error.cause.code).toBe(noStreamCode);
    }
  });

  it('"no responders" in the middle of a burst (nothing listens for a moment, as between stream leaders) is waited out: the batch completes in order, once, on both paths', async () => {
    // The stream captures the batch's first ten subjects only; the other ten are answered "no
    // responders" (nothing stored them) until the stream is widened to take them, as a new stream
    // leader subscribes after an election. Decision 0038: before it, the batch was cut short at 10.
    for (const connection of [{}, { connection: infra.nc }]) {
      const n = ++streams;
      const name = `${infra.ns}_DIRECT${n}`;
      const config = { name, subjects: [`${infra.ns}.d${n}.a.>`], duplicate_window: 60_000_000_000 };
      await infra.jsm.streams.add(config);
      const messages = [
        ...messagesFor((i) => `${infra.ns}.d${n}.a.${i}`, 'gap', 10),
        ...messagesFor((i) => `${infra.ns}.d${n}.b.${i}`, 'gap', 20).slice(10),
      ];
      const sending = appendBatch(infra.js, { stream: name, messages, expectedLastSeq: 0, ...connection });
      await until(async () => (await lastSequence(infra.jsm, name)) === 10, 'the first ten stored', 10_000);
      // Answered "no responders" for a while longer before the subjects get a listener.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await infra.jsm.streams.update(name, {
        ...config,
        subjects: [...config.subjects, `${infra.ns}.d${n}.b.>`],
      });
      const result = await sending;
      expect(result.stored).toEqual(
        messages.map((_, index) => ({ index, seq: index + 1, duplicate: false })),
      );
      const back = await readRange(infra.js, { stream: name, fromSeq: 1, toSeq: 20 });
      expect(back.map((m) => m.msgId)).toEqual(messages.map((m) => m.msgId));
      expect(await lastSequence(infra.jsm, name)).toBe(20);
    }
  });

  it('a frozen server: an unknown outcome after the ack timeout, and a retry with the same ids stores each once', async () => {
    const nats = await startPrivateNats({ jetstream: true });
    const nc = await connectNats(nats.url, { name: 'direct-frozen-writer' });
    try {
      const js = jetstream(nc);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'FROZEN', subjects: ['frozen.>'] });
      const messages = messagesFor((i) => `frozen.e.${i}`, 'frozen', 40);
      // Resolves once every thread is stopped: right after the signal the server has been seen
      // to answer a burst.
      await nats.nodes[0]!.pause();
      const error = await appendBatch(js, {
        stream: 'FROZEN',
        messages,
        expectedLastSeq: 0,
        ackTimeoutMs: 1_000,
        connection: nc,
      }).catch((e) => e);
      expect(error, String(error?.cause)).toBeInstanceOf(BatchOutcomeUnknownError);
      // What is certain is a prefix (the freeze may land after the server took the first messages).
      expect(error.stored).toEqual(
        error.stored.map((_: unknown, index: number) => ({ index, seq: index + 1, duplicate: false })),
      );
      expect(error.firstUnknownIndex).toBe(error.stored.length);
      nats.nodes[0]!.resume();
      const retry = await appendBatch(js, { stream: 'FROZEN', messages, expectedLastSeq: 0, connection: nc });
      expect(retry.stored.map((s) => s.seq)).toEqual(messages.map((_, i) => i + 1));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await lastSequence(jsm, 'FROZEN')).toBe(40);
    } finally {
      nats.nodes[0]?.resume();
      await nc.close();
      await nats.stop();
    }
  });

  it('a closed connection: nothing sent, an unknown outcome at index 0 (as js.publish reports it)', async () => {
    const nc = await connectNats(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', { name: 'direct-closed' });
    await nc.close();
    const { name, subject } = await freshStream();
    const error = await appendBatch(jetstream(nc), {
      stream: name,
      messages: messagesFor(subject, 'closed', 3),
      expectedLastSeq: 0,
      connection: nc,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(BatchOutcomeUnknownError);
    expect(error).toMatchObject({ firstUnknownIndex: 0, stored: [] });
    expect(await lastSequence(infra.jsm, name)).toBe(0);
  });

  it('property: random batches, stale expectations, oversize messages and repeats give the same results and streams on both paths', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          size: fc.integer({ min: 1, max: 120 }),
          window: fc.integer({ min: 1, max: 40 }),
          // Messages already in the stream before the batch (its tail), and how stale the batch's expectation is.
          before: fc.integer({ min: 0, max: 3 }),
          stale: fc.integer({ min: 0, max: 2 }),
          oversizeAt: fc.option(fc.nat(), { nil: undefined }),
          // A previous attempt stored this many of the batch (a retry: they come back as duplicates).
          retriedPrefix: fc.nat(),
        }),
        async ({ size, window, before, stale, oversizeAt, retriedPrefix }) => {
          const results = [];
          for (const path of ['requests', 'direct'] as const) {
            const { name, subject } = await freshStream();
            const connection = path === 'direct' ? { connection: infra.nc } : {};
            if (before > 0)
              await appendBatch(infra.js, {
                stream: name,
                messages: messagesFor((i) => subject(1_000 + i), 'before', before),
                expectedLastSeq: 0,
              });
            const messages = messagesFor(subject, 'batch', size);
            const prefix = Math.min(retriedPrefix % (size + 1), size);
            if (prefix > 0)
              await appendBatch(infra.js, {
                stream: name,
                messages: messages.slice(0, prefix),
                expectedLastSeq: before,
                ...connection,
              });
            if (oversizeAt !== undefined) {
              const at = oversizeAt % size;
              messages[at] = { ...messages[at]!, bytes: new Uint8Array(messageBytesMax + 1) };
            }
            const outcome = await outcomeOf(
              appendBatch(infra.js, {
                stream: name,
                messages,
                expectedLastSeq: Math.max(0, before - stale),
                inFlightMax: window,
                ...connection,
              }),
            );
            const tail = await lastSequence(infra.jsm, name);
            const stored =
              tail === 0 ? [] : await readRange(infra.js, { stream: name, fromSeq: 1, toSeq: tail });
            results.push({
              outcome,
              stored: stored.map((m) => [m.seq, m.msgId, Buffer.from(m.bytes).toString()]),
            });
          }
          expect(results[1]).toEqual(results[0]);
          // And the protocol's own promise: whatever was stored of the batch is a prefix of it.
          const ids = results[0]!.stored
            .map(([, id]) => id as string)
            .filter((id) => id.startsWith('batch:'));
          expect(ids).toEqual(ids.map((_, i) => `batch:${i}`));
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
