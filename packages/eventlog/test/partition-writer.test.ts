import { streamName } from '@fundtrace/events';
import { deleteNamespaceStreams, staleStreamInfo, useTestInfra } from '@fundtrace/testkit';
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
  foldStreamTailWith,
  isLostRaceOrUnknownOutcome,
  lastSequence,
  openPartitionStream,
  type TailMoved,
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

  it('ledger-api’s needs: the streams it reads opened too, its own decoder, direct publishes, and what the tail holds of a batch that moved', async () => {
    // A namespace of its own (removed at the end), so that its streams start empty.
    const ns = `${infra.ns}r`;
    try {
      await openPartitionStream(infra.jsm, { partition, context: 'ledger', reads: ['registry'], ns });
      const stream = streamName('ledger', partition, ns);
      expect(await lastSequence(infra.jsm, streamName('registry', partition, ns))).toBe(0);

      // Direct publishes (decision 0035): stored as sent.
      const first = await appendAtTail(infra.js, {
        stream,
        messages: accountsOpened(ns, 'd1', 3),
        expectedLastSeq: 0,
        catchUp: async () => {
          throw new Error('not called');
        },
        connection: infra.nc,
        inFlightMax: 2,
      });
      expect(first !== 'retry' && first.stored.map((m) => m.seq)).toEqual([1, 2, 3]);

      // The same command sent again with one more event (another instance stored its first three):
      // the fourth is stored, but the first three are copies stored before, so the writer must read
      // them back: catchUp is told which leading messages the stream holds and which are copies.
      /** Appends at `expectedLastSeq` with direct publishes, keeping what catchUp is told. */
      const appendSeen = async (messages: ReturnType<typeof accountsOpened>, expectedLastSeq: number) => {
        const moved: TailMoved[] = [];
        const result = await appendAtTail(infra.js, {
          stream,
          messages,
          expectedLastSeq,
          catchUp: async (m) => {
            moved.push(m);
          },
          connection: infra.nc,
        });
        return { result, moved };
      };
      const { result: again, moved } = await appendSeen(accountsOpened(ns, 'd1', 4), 0);
      expect(again).toBe('retry');
      expect(moved).toEqual([
        {
          stored: [
            { index: 0, seq: 1, duplicate: true },
            { index: 1, seq: 2, duplicate: true },
            { index: 2, seq: 3, duplicate: true },
            { index: 3, seq: 4, duplicate: false },
          ],
          lastSeqAtLeast: 4,
        },
      ]);

      // A lost race: the leader's conflict says how far the stream goes, so that the catch-up reads
      // at least that far whatever a stale stream info says (decision 0122).
      await appendBatch(infra.js, { stream, messages: accountsOpened(ns, 'd2', 3), expectedLastSeq: 4 });
      const { result: lost, moved: raced } = await appendSeen(accountsOpened(ns, 'd3', 2), 4);
      expect(lost).toBe('retry');
      expect(raced).toMatchObject([{ stored: [], lastSeqAtLeast: 7 }]);
      expect(raced[0]!.cause).toBeInstanceOf(BatchCutShortError);

      // Folding with the writer's own decoder (ledger-api's trusted fast decode): raw bytes in.
      const seen: Array<[number, string]> = [];
      const last = await foldStreamTailWith(infra.js, {
        stream,
        afterSeq: 1,
        decode: (m) => JSON.parse(new TextDecoder().decode(m.bytes)) as { type: string },
        typeOf: (decoded) => decoded.type,
        knows: (type) => type === 'AccountOpened',
        fold: (decoded, m) => seen.push([m.seq, decoded.type]),
      });
      expect(last).toBe(7);
      expect(seen.map(([seq]) => seq)).toEqual([2, 3, 4, 5, 6, 7]);
      expect(seen.every(([, type]) => type === 'AccountOpened')).toBe(true);

      // A stale stream info that puts the tail at our state (a replica that just restarted): the
      // fold finds nothing unless told how far the leader said the stream goes.
      const stale = staleStreamInfo(infra.js, 3);
      const fold = (atLeastSeq?: number) => {
        const folded: number[] = [];
        return foldStreamTailWith(stale, {
          stream,
          afterSeq: 4,
          ...(atLeastSeq === undefined ? {} : { atLeastSeq }),
          decode: (m) => m,
          typeOf: () => 'AccountOpened',
          knows: () => true,
          fold: (_, m) => folded.push(m.seq),
        }).then((end) => ({ end, folded }));
      };
      expect(await fold()).toEqual({ end: 4, folded: [] });
      expect(await fold(raced[0]!.lastSeqAtLeast)).toEqual({ end: 7, folded: [5, 6, 7] });
    } finally {
      await deleteNamespaceStreams(infra.jsm, ns);
    }
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
