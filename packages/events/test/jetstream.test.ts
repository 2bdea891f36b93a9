import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  audit,
  createEvent,
  decodeEvent,
  encodeEvent,
  leafHash,
  messageId,
  newEventId,
  parseStreamName,
  parseSubject,
  streamName,
  streamSubjects,
  subjectFor,
} from '../src';
import { envelopeInput, findingRaisedData } from './fixtures';

// Integration: the names and bytes this package produces, on the machine's real
// NATS JetStream (2.9). Proves the stream/subject names are accepted by the
// server, the stored payload is byte-identical (so leaf hashes match), and
// `<commandId>:<index>` message ids make a retried command a no-op.

const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
/** JetStream's duplicate window for this test stream: long enough to cover the retry below. */
const duplicateWindowNs = 120 * 1_000_000_000;

const ns = `tev${randomBytes(4).toString('hex')}`;
const partition = '411325';
const stream = streamName('audit', partition, ns);
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: natsUrl, name: 'events-jetstream-test' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: stream,
    subjects: [streamSubjects('audit', partition, ns)],
    storage: StorageType.File,
    deny_delete: true,
    deny_purge: true,
    duplicate_window: duplicateWindowNs,
  });
});

afterAll(async () => {
  if (nc === undefined) return;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
});

function commandEvents(commandId: string) {
  const findingId = `F-${commandId}`;
  const raised = createEvent(
    audit.findingRaised,
    envelopeInput({ ...findingRaisedData(), findingId }, { commandId, id: newEventId(Date.UTC(2019, 4, 6)) }),
  );
  const reviewed = createEvent(
    audit.findingReviewed,
    envelopeInput(
      { findingId, outcome: 'confirmed' as const, note: '经复核属实' },
      { commandId, id: newEventId(Date.UTC(2019, 4, 7)) },
    ),
  );
  return [raised, reviewed];
}

describe('events on a real JetStream stream', () => {
  it('stores the canonical bytes unchanged under the derived subject, and decodes them back', async () => {
    expect(parseStreamName(stream)).toEqual({ namespace: ns, context: 'audit', partition });
    const js = jetstream(nc);
    const events = commandEvents('cmd-store-1');
    const acks = [];
    for (const [index, event] of events.entries()) {
      acks.push(
        await js.publish(subjectFor(event, ns), encodeEvent(event), {
          msgID: messageId(event.commandId, index),
        }),
      );
    }
    expect(acks.map((ack) => ack.stream)).toEqual([stream, stream]);

    const jsm = await jetstreamManager(nc);
    for (const [index, ack] of acks.entries()) {
      const stored = await jsm.streams.getMessage(stream, { seq: ack.seq });
      expect(stored).not.toBeNull();
      const event = events[index]!;
      expect(stored!.subject).toBe(`${ns}.audit.${partition}.finding.F-cmd-store-1`);
      expect(parseSubject(stored!.subject, ns)).toEqual({
        context: 'audit',
        partition,
        entity: 'finding',
        id: 'F-cmd-store-1',
      });
      expect(stored!.data).toEqual(encodeEvent(event));
      expect(leafHash(stored!.data)).toEqual(leafHash(encodeEvent(event)));
      expect(decodeEvent(stored!.data)).toStrictEqual(event);
      expect(stored!.header?.get('Nats-Msg-Id')).toBe(`cmd-store-1:${index}`);
    }
  });

  it('drops a retried command: same <commandId>:<index> ids within the duplicate window', async () => {
    const js = jetstream(nc);
    const first = commandEvents('cmd-retry-1');
    const originals = [];
    for (const [index, event] of first.entries()) {
      originals.push(
        await js.publish(subjectFor(event, ns), encodeEvent(event), {
          msgID: messageId('cmd-retry-1', index),
        }),
      );
    }
    // The retry is decided again: new event ids and times, same command id and order.
    const retry = commandEvents('cmd-retry-1').map((event) => ({
      ...event,
      recordedAt: '2019-05-06T01:09:00.000Z',
    }));
    for (const [index, event] of retry.entries()) {
      const ack = await js.publish(subjectFor(event, ns), encodeEvent(event), {
        msgID: messageId('cmd-retry-1', index),
      });
      expect(ack.duplicate).toBe(true);
      expect(ack.seq).toBe(originals[index]!.seq);
    }
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    expect(info.state.last_seq).toBe(originals[originals.length - 1]!.seq);
  });
});
