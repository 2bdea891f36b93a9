import { appendBatch, ensurePartitionStreams, lastSequence, type OutgoingMessage } from '@fundtrace/eventlog';
import {
  type Actor,
  type Context,
  createEvent,
  type EventData,
  type EventType,
  encodeEvent,
  latestDefinition,
  messageId,
  newEventId,
  streamName,
  subjectFor,
  utcTimestamp,
} from '@fundtrace/events';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/** Bytes of one stream's events sent per `appendBatch` call: within the eventlog's batch limit. */
const appendChunkMessages = 5_000;

const actors: Readonly<Record<Context, Actor>> = {
  ledger: { userId: 'clerk-01', role: 'finance', org: '内乡县财政局' },
  registry: { userId: 'registrar-01', role: 'registry', org: '内乡县扶贫办' },
  audit: { userId: 'rules', role: 'system', org: '内乡县纪委监委' },
};

let counter = 0;

/**
 * Appends hand-built events straight to a test namespace's streams, as the writers would (same
 * encoding, subjects and message ids), including events no writer would accept: the projector
 * must catch those itself.
 */
export class LogWriter {
  private readonly queued = new Map<string, OutgoingMessage[]>();
  private readonly ensured = new Set<string>();

  /**
   * `nc` may be given later (`connect`): building a million events takes minutes of synchronous
   * work, long enough for a connection opened before it to miss its pings and be dropped.
   */
  constructor(
    private nc: NatsConnection | undefined,
    readonly ns: string,
  ) {}

  /** Sets the connection `flush` appends through. */
  connect(nc: NatsConnection): this {
    this.nc = nc;
    return this;
  }

  add<T extends EventType>(
    partition: string,
    type: T,
    data: EventData<T>,
    options: { occurredAt?: string } = {},
  ): this {
    const definition = latestDefinition(type);
    const now = Date.now();
    const commandId = `cmd-${now}-${counter++}`;
    const event = createEvent(definition as never, {
      id: newEventId(now),
      partition,
      data,
      actor: actors[definition.context],
      commandId,
      correlationId: commandId,
      occurredAt: options.occurredAt ?? '2019-03-15T10:00:00+08:00',
      recordedAt: utcTimestamp(now),
    });
    const stream = streamName(definition.context, partition, this.ns);
    const list = this.queued.get(stream) ?? [];
    list.push({
      subject: subjectFor(event as never, this.ns),
      bytes: encodeEvent(event as never),
      msgId: messageId(commandId, 0),
    });
    this.queued.set(stream, list);
    return this;
  }

  /** Appends everything queued, stream by stream, in the order added. Returns each stream's last sequence. */
  async flush(): Promise<Map<string, number>> {
    if (this.nc === undefined) throw new Error('LogWriter.flush needs a NATS connection (connect)');
    const js = jetstream(this.nc);
    const jsm = await jetstreamManager(this.nc);
    const out = new Map<string, number>();
    for (const [stream, messages] of this.queued) {
      const partition = stream.slice(-6);
      if (!this.ensured.has(partition)) {
        await ensurePartitionStreams(jsm, { partition, ns: this.ns });
        this.ensured.add(partition);
      }
      let last = await lastSequence(jsm, stream);
      for (let start = 0; start < messages.length; start += appendChunkMessages) {
        const result = await appendBatch(js, {
          stream,
          messages: messages.slice(start, start + appendChunkMessages),
          expectedLastSeq: last,
        });
        last = result.lastSeq;
      }
      out.set(stream, last);
    }
    this.queued.clear();
    return out;
  }
}
