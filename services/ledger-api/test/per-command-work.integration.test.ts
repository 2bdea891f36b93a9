import {
  appendBatch,
  commandMessages,
  ensurePartitionStreams,
  type OutgoingMessage,
} from '@fundtrace/eventlog';
import { eventBatchEncoder, streamName, utcTimestamp } from '@fundtrace/events';
import { connectTestNats, useTestInfra } from '@fundtrace/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerWriter } from '../src/writer/writer';
import { financeActor, startWriter, testNowMs } from './fixtures';

/**
 * What one single command costs the writer in NATS traffic, at two sizes of state. The end-to-end
 * phase of `pnpm bench` (OpenAccount at 1,000/s) saw its latency grow with the county's size, and
 * the suspect was per-command work that is O(state): a catch-up that asks for the stream's end or
 * re-reads its tail before each command, since the writer moved onto eventlog's shared tail
 * protocol (decision 0039). Counted in messages and bytes the writer's own connection receives,
 * not in time: a command costs its ack and nothing else once the state ends at the writer's own
 * append (decision 0036), whether the state holds a hundred events or thousands.
 */

const infra = useTestInfra({ database: false });
let nc: Awaited<ReturnType<typeof connectTestNats>>;

beforeAll(async () => {
  // The writers' own connection: nothing else sends or receives on it, so its counters are theirs.
  nc = await connectTestNats('fundtrace-test-per-command');
});
afterAll(async () => {
  await nc?.close();
});

/** `count` AccountOpened events appended to the partition's stream by another writer, one command each. */
async function foreignAccounts(partition: string, count: number): Promise<void> {
  const { js, jsm, ns } = infra;
  await ensurePartitionStreams(jsm, { partition, ns, contexts: ['ledger', 'registry'] });
  const stream = streamName('ledger', partition, ns);
  const messages: OutgoingMessage[] = [];
  for (let i = 0; i < count; i++) {
    const commandId = `foreign-${i}`;
    const at = utcTimestamp(testNowMs);
    const encoder = eventBatchEncoder({
      partition,
      occurredAt: at,
      recordedAt: at,
      actor: financeActor,
      commandId,
      correlationId: commandId,
    });
    const opened = {
      type: 'AccountOpened',
      data: { accountId: `F${i}`, kind: 'implementing_unit' as const, name: `单位 ${i}` },
    };
    messages.push(
      ...commandMessages(encoder, [opened], { nowMs: testNowMs, hash: commandId, versionOf: () => 1, ns }),
    );
  }
  await appendBatch(js, { stream, messages, expectedLastSeq: 0, inFlightMax: 1_000 });
}

/** Messages and bytes the writer's connection received per command for `commands` OpenAccount commands. */
async function perCommand(writer: LedgerWriter, prefix: string, commands: number) {
  const open = (i: number) =>
    writer.execute({
      commandId: `${prefix}-${i}`,
      actor: financeActor,
      command: {
        type: 'OpenAccount',
        data: { accountId: `${prefix}-${i}`, kind: 'implementing_unit', name: `单位 ${i}` },
      },
    });
  // The first command after the cold start asks for the stream's end (nothing of ours yet).
  expect((await open(0)).ok).toBe(true);
  const before = { ...nc.stats() };
  // Half at once (group commit, decision 0036), half one after another (each alone).
  const together = await Promise.all(Array.from({ length: commands / 2 }, (_, i) => open(1 + i)));
  const alone = [];
  for (let i = 1 + commands / 2; i <= commands; i++) alone.push(await open(i));
  for (const outcome of [...together, ...alone]) expect(outcome).toMatchObject({ ok: true });
  const after = nc.stats();
  return {
    messagesIn: (after.inMsgs - before.inMsgs) / commands,
    bytesIn: (after.inBytes - before.inBytes) / commands,
  };
}

describe('a single command costs the writer the same at any size of state', () => {
  it('one ack in per command, no stream read, with 100 and with 5,000 events behind it', async () => {
    const { ns } = infra;
    const commands = 200;
    const measured = [];
    for (const [partition, events] of [
      ['411325', 100],
      ['411326', 5_000],
    ] as const) {
      await foreignAccounts(partition, events);
      const writer = await startWriter(jetstream(nc), await jetstreamManager(nc), ns, partition);
      expect(writer.state.seq).toBe(events);
      const skippedBefore = writer.stats.streamInfoSkipped;
      measured.push(await perCommand(writer, `p${partition}`, commands));
      // Every command was decided on the state its own last append left: no STREAM.INFO, no read.
      expect(writer.stats.streamInfoSkipped - skippedBefore).toBeGreaterThanOrEqual(commands / 2 + 1);
      expect(writer.stats.rebuilds).toBe(0);
      expect(writer.state.seq).toBe(events + commands + 1);
      await writer.stop();
    }
    for (const m of measured) {
      // Each command's ack (a few dozen bytes; a stored event read back is ~500): a stray heartbeat
      // of the idle registry tail at most besides.
      expect(m.messagesIn).toBeLessThanOrEqual(1 + 2 / commands);
      expect(m.bytesIn).toBeLessThan(100);
    }
    expect(measured[1]!.messagesIn).toBeCloseTo(measured[0]!.messagesIn, 1);
  });
});
