import { PoisonEventError } from '@fundtrace/eventlog';
import { useTestInfra } from '@fundtrace/testkit';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { naivePipeline } from '../src/baselines';

// The naive pipeline of issue 5 is "durable pull → one multi-row INSERT of raw events → ack":
// nothing decoded (decision 0132). Messages that are no event at all prove it: the raw pipeline
// stores them byte for byte, the decoding reference stops at the first.

const infra = useTestInfra();

async function streamOfNonEvents(name: string): Promise<Map<string, number>> {
  const stream = `${infra.ns}_LEDGER_${name}`;
  await infra.jsm.streams.add({ name: stream, subjects: [`${infra.ns}.ledger.${name}.>`] });
  for (let index = 1; index <= 3; index++)
    await infra.js.publish(
      `${infra.ns}.ledger.${name}.raw.${index}`,
      new TextEncoder().encode(`not an event ${index}`),
    );
  return new Map([[stream, 3]]);
}

describe('naive pipeline', () => {
  it('inserts the stored bytes as they came, decoding nothing', { timeout: 60_000 }, async () => {
    const streams = await streamOfNonEvents('411325');
    const rate = await naivePipeline(infra.nc, infra.databaseUrl, streams, 'naive_raw');
    expect(rate.count).toBe(3);
    const { rows } = await sql<{ seq: string; bytes: Buffer }>`
      select seq::text, bytes from naive_raw.raw_events order by seq`.execute(infra.db);
    expect(rows.map((r) => [r.seq, r.bytes.toString()])).toEqual([
      ['1', 'not an event 1'],
      ['2', 'not an event 2'],
      ['3', 'not an event 3'],
    ]);
  });

  it(
    'decoding each event, it stops with the poison event named instead of waiting',
    { timeout: 60_000 },
    async () => {
      const streams = await streamOfNonEvents('411326');
      const run = naivePipeline(
        infra.nc,
        infra.databaseUrl,
        streams,
        'naive_decoding',
        undefined,
        undefined,
        'decoding',
      );
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoisonEventError);
      expect((error as PoisonEventError).seq).toBe(1);
    },
  );
});
