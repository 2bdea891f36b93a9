/**
 * Measures how fast a writer can rebuild from its stream: ordered consumer
 * (`readStreamRaw`, plus decoding with `readStream`) against single direct gets
 * (the only other bulk read nats-server 2.9 offers; batched direct get needs 2.11).
 *
 *   pnpm exec tsx packages/eventlog/bench/read-bench.ts [events=1000000] [directGetSample=20000]
 *
 * Writes to a throw-away namespace on NATS_URL (default the machine's) and deletes it.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { appendBatch, connectNats, ensurePartitionStreams, readStream, readStreamRaw } from '../src';
import { accountOpened, partition } from '../test/support/fixtures';

const total = Number(process.argv[2] ?? 1_000_000);
const directSample = Math.min(total, Number(process.argv[3] ?? 20_000));
/** Distinct encoded events cycled through: encoding a million with zod would dominate the setup. */
const distinctEvents = 1_000;
/** Messages per appendBatch call while filling the stream. */
const fillBatch = 10_000;
/** Direct gets kept in flight at once. */
const directInFlight = 256;

const ns = `bench${Date.now().toString(36)}`;
const nc = await connectNats(process.env.NATS_URL || 'nats://127.0.0.1:4222', { name: 'read-bench' });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
const [stream] = await ensurePartitionStreams(jsm, { partition, ns, contexts: ['ledger'] });
if (stream === undefined) throw new Error('no stream');

function rate(count: number, ms: number): string {
  return `${count.toLocaleString('en')} in ${(ms / 1000).toFixed(1)} s = ${Math.round((count / ms) * 1000).toLocaleString('en')}/s`;
}

try {
  const templates = Array.from({ length: distinctEvents }, (_, i) => accountOpened(ns, 'bench', i));
  let t = performance.now();
  let tail = 0;
  while (tail < total) {
    const n = Math.min(fillBatch, total - tail);
    const messages = Array.from({ length: n }, (_, i) => ({
      ...templates[(tail + i) % distinctEvents]!,
      msgId: `bench:${tail + i}`,
    }));
    tail = (await appendBatch(js, { stream, messages, expectedLastSeq: tail })).lastSeq;
  }
  const bytes = (await jsm.streams.info(stream)).state.bytes;
  console.log(
    `append (pipelined, ${fillBatch} per batch): ${rate(total, performance.now() - t)}, ${(bytes / 2 ** 20).toFixed(0)} MiB`,
  );

  t = performance.now();
  let count = 0;
  for await (const _ of readStreamRaw(js, { stream, fromSeq: 1 })) count++;
  console.log(`readStreamRaw (ordered consumer): ${rate(count, performance.now() - t)}`);

  t = performance.now();
  count = 0;
  for await (const _ of readStream(js, { stream, fromSeq: 1 })) count++;
  console.log(`readStream (ordered consumer + decode): ${rate(count, performance.now() - t)}`);

  t = performance.now();
  let next = 1;
  const worker = async () => {
    while (next <= directSample) {
      const seq = next++;
      await jsm.direct.getMessage(stream, { seq });
    }
  };
  await Promise.all(Array.from({ length: directInFlight }, worker));
  console.log(`direct get, ${directInFlight} in flight: ${rate(directSample, performance.now() - t)}`);
} finally {
  await jsm.streams.delete(stream);
  await nc.close();
}
