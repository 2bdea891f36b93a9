import { streamName } from '@fundtrace/events';
import { useTestInfra } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import {
  AppendConflictError,
  AppendOutcomeUnknownError,
  AppendRejectedError,
  appendAtTail,
  appendBatch,
  BatchCutShortError,
  BatchOutcomeUnknownError,
  foldStreamTail,
  isLostRaceOrUnknownOutcome,
  lastSequence,
  openPartitionStream,
} from '../src';
import { accountsOpened, partition } from './support/fixtures';

// The single writers' shared tail protocol (registry-api, audit-api) against the machine's NATS:
// append at our tail, or catch up and decide again; fold what the stream holds beyond our state.
const infra = useTestInfra({ database: false });

describe('a partition writer’s tail', () => {
  it('appends at the tail, and answers retry after catching up when another writer got there first or a repeat is stored', async () => {
    await openPartitionStream(infra.jsm, { partition, context: 'ledger', ns: infra.ns });
    const stream = streamName('ledger', partition, infra.ns);
    expect(await lastSequence(infra.jsm, stream)).toBe(0);
    // Only the ledger stream of the partition: the writer opens what it writes.
    await expect(lastSequence(infra.jsm, streamName('audit', partition, infra.ns))).rejects.toThrow();

    let folded: number[] = [];
    let last = 0;
    const catchUp = async () => {
      last = await foldStreamTail(infra.js, {
        stream,
        afterSeq: last,
        knows: (type) => type === 'AccountOpened',
        fold: (stored) => folded.push(stored.seq),
      });
    };
    let catchUps = 0;
    const counted = async () => {
      catchUps++;
      await catchUp();
    };

    const first = await appendAtTail(infra.js, {
      stream,
      messages: accountsOpened(infra.ns, 'c1', 2),
      expectedLastSeq: 0,
      catchUp: counted,
    });
    expect(first).not.toBe('retry');
    expect(first !== 'retry' && first.lastSeq).toBe(2);
    expect(catchUps).toBe(0);
    await catchUp();
    expect(folded).toEqual([1, 2]);

    // Another instance appends; ours, decided at 2, loses the race and catches up.
    await appendBatch(infra.js, {
      stream,
      messages: accountsOpened(infra.ns, 'other', 1),
      expectedLastSeq: 2,
    });
    expect(
      await appendAtTail(infra.js, {
        stream,
        messages: accountsOpened(infra.ns, 'c2', 1),
        expectedLastSeq: 2,
        catchUp: counted,
      }),
    ).toBe('retry');
    expect(catchUps).toBe(1);
    expect(folded).toEqual([1, 2, 3]);
    expect(await lastSequence(infra.jsm, stream)).toBe(3);

    // A retry of c1 at the right tail: JetStream drops the repeats, so it is read back, not stored again.
    expect(
      await appendAtTail(infra.js, {
        stream,
        messages: accountsOpened(infra.ns, 'c1', 2),
        expectedLastSeq: 3,
        catchUp: counted,
      }),
    ).toBe('retry');
    expect(catchUps).toBe(2);
    expect(await lastSequence(infra.jsm, stream)).toBe(3);

    // Folding from the middle gives the tail only; an event type the writer does not know stops it.
    folded = [];
    expect(
      await foldStreamTail(infra.js, {
        stream,
        afterSeq: 1,
        knows: () => true,
        fold: (s) => folded.push(s.seq),
      }),
    ).toBe(3);
    expect(folded).toEqual([2, 3]);
    await expect(
      foldStreamTail(infra.js, {
        stream,
        afterSeq: 0,
        knows: (type) => type === 'FindingRaised',
        fold: () => {},
      }),
    ).rejects.toThrow(`invariant: ${stream} holds a AccountOpened at sequence 1`);
  });

  it('treats lost races and unknown outcomes as "catch up and decide again", nothing else', () => {
    const raced = [
      new AppendConflictError('S', 3, 4),
      new BatchCutShortError('S', [], 0, new AppendConflictError('S', 3, 4)),
      new AppendOutcomeUnknownError('S', 3, new Error('timeout')),
      new BatchOutcomeUnknownError('S', [], 0, new Error('timeout')),
    ];
    for (const error of raced) expect(isLostRaceOrUnknownOutcome(error), error.name).toBe(true);
    for (const error of [new AppendRejectedError('S', 10_071, 'too big'), new Error('boom'), 'text'])
      expect(isLostRaceOrUnknownOutcome(error)).toBe(false);
  });
});
