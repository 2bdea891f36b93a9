import { createHash } from 'node:crypto';
import {
  canonicalJson,
  decodeEvent,
  encodeEvent,
  eventBatchEncoder,
  messageId,
  newEventId,
  subjectFor,
} from '@fundtrace/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commandHash,
  commandHashOfCanonicalData,
  commandMessages,
  eventIdFor,
  eventIdTimeMs,
  firstEventMatches,
  parseMessageId,
  SerialQueue,
} from '../src';

describe('command identity (shared by the writers)', () => {
  it('eventIdFor is newEventId over the first 16 bytes of SHA-256(hash:index), for any time and index', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 48 - 1 }),
          fc.constantFrom(0, 1, 2 ** 48 - 1, 1_700_000_000_000),
        ),
        fc.string(),
        fc.nat(),
        (nowMs, hash, index) => {
          const random = createHash('sha256').update(`${hash}:${index}`).digest().subarray(0, 16);
          expect(eventIdFor(nowMs, hash, index)).toBe(newEventId(nowMs, random));
        },
      ),
      { numRuns: 5_000 },
    );
    for (const bad of [-1, 2 ** 48, 1.5, Number.NaN]) {
      expect(() => eventIdFor(bad, 'h', 0)).toThrow(RangeError);
      expect(() => newEventId(bad)).toThrow(RangeError);
    }
  });

  it('binds the first event id to the command content', () => {
    const hash = commandHash('411325', 'ReviewFinding', { findingId: 'f', note: 'n' }, null);
    const id = eventIdFor(1_700_000_000_000, hash, 0);
    expect(firstEventMatches(id, hash)).toBe(true);
    const other = commandHash('411325', 'ReviewFinding', { findingId: 'f', note: 'm' }, null);
    expect(firstEventMatches(id, other)).toBe(false);
    // Key order does not matter (canonical JSON), the partition does.
    expect(commandHash('411325', 'T', { a: 1, b: 2 }, null)).toBe(
      commandHash('411325', 'T', { b: 2, a: 1 }, null),
    );
    expect(commandHash('411326', 'T', { a: 1 }, null)).not.toBe(commandHash('411325', 'T', { a: 1 }, null));
  });

  it('hashes the canonical JSON of { partition, type, data, occurredAt }, also from the text of the data', () => {
    const json = fc.jsonValue().filter((v) => JSON.stringify(v) !== undefined && !Object.is(v, -0));
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        json,
        fc.option(fc.string(), { nil: null }),
        (partition, type, data, at) => {
          let expected: string;
          try {
            expected = createHash('sha256')
              .update(canonicalJson({ partition, type, data, occurredAt: at }))
              .digest('hex');
          } catch {
            return; // not canonical (a float, a lone surrogate): refused either way
          }
          expect(commandHash(partition, type, data, at)).toBe(expected);
          expect(commandHashOfCanonicalData(partition, type, canonicalJson(data), at)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('parses <commandId>:<index> and refuses anything else', () => {
    expect(parseMessageId('raise-x:0')).toEqual({ commandId: 'raise-x', index: 0 });
    expect(parseMessageId('a:b:12')).toEqual({ commandId: 'a:b', index: 12 });
    for (const bad of ['nocolon', ':1', 'a:', 'a:-1', 'a:1.5']) expect(parseMessageId(bad)).toBeNull();
  });

  it('runs tasks one at a time, in order, even when one fails', async () => {
    const queue = new SerialQueue();
    const order: string[] = [];
    const slow = queue.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('slow');
    });
    const failing = queue.run(async () => {
      order.push('failing');
      throw new Error('boom');
    });
    const last = queue.run(async () => {
      order.push('last');
      return 3;
    });
    await slow;
    await expect(failing).rejects.toThrow('boom');
    expect(await last).toBe(3);
    expect(order).toEqual(['slow', 'failing', 'last']);
  });
});

describe('commandMessages (the writer’s encoding, shared with benches and tests)', () => {
  const head = {
    partition: '411325',
    occurredAt: '2024-06-15T12:00:00+08:00',
    recordedAt: '2024-06-15T04:00:00.000Z',
    actor: { userId: 'clerk-1', role: 'finance' as const, org: '内乡县财政局' },
    commandId: 'cmd-1',
    correlationId: 'cmd-1',
  };
  const nowMs = Date.parse(head.recordedAt);
  const opened = (i: number) => ({
    type: 'AccountOpened',
    data: { accountId: `U${i}`, kind: 'implementing_unit', name: `单位 ${i}` },
  });

  it('writes each event as encodeEvent does, with ids from the command hash and ids of its index', () => {
    // A command's events encoded in two slices (as a roster is) are the events encoded at once.
    const encoder = eventBatchEncoder(head);
    const options = { nowMs, hash: 'h', versionOf: () => 1, ns: 'ns1' };
    const whole = commandMessages(encoder, [opened(0), opened(1), opened(2)], options);
    const sliced = [
      ...commandMessages(encoder, [opened(0)], options),
      ...commandMessages(encoder, [opened(1), opened(2)], { ...options, startIndex: 1 }),
    ];
    expect(sliced).toEqual(whole);
    whole.forEach((message, index) => {
      const event = { ...head, id: eventIdFor(nowMs, 'h', index), version: 1, ...opened(index) };
      expect(message.eventId).toBe(event.id);
      expect(Buffer.from(message.bytes)).toEqual(Buffer.from(encodeEvent(event as never)));
      expect(decodeEvent(message.bytes).id).toBe(event.id);
      expect(message.subject).toBe(subjectFor(event as never, 'ns1'));
      expect(message.msgId).toBe(messageId('cmd-1', index));
    });
  });

  it('without a hash gives each event a fresh uuid v7 of its time, encoded as encodeEvent does', () => {
    const options = { nowMs, hash: null, versionOf: () => 1, startIndex: 3 };
    const [first, second] = commandMessages(eventBatchEncoder(head), [opened(0), opened(1)], options);
    const again = commandMessages(eventBatchEncoder(head), [opened(0)], options);
    expect(new Set([first!.eventId, second!.eventId, again[0]!.eventId]).size).toBe(3);
    [first!, second!].forEach((message, i) => {
      expect(eventIdTimeMs(message.eventId)).toBe(nowMs);
      const event = { ...head, id: message.eventId, version: 1, ...opened(i) };
      expect(Buffer.from(message.bytes)).toEqual(Buffer.from(encodeEvent(event as never)));
      expect(message.msgId).toBe(messageId('cmd-1', 3 + i));
    });
  });
});
