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
  parseStreamName,
  streamName,
  subjectFor,
  utcTimestamp,
} from '@fundtrace/events';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/** Messages of one stream sent per `appendBatch` call: within the eventlog's batch limit. */
export const fixtureAppendChunkMessages = 5_000;

/** Who an event of each context is recorded as. */
export type FixtureActors = Readonly<Record<Context, Actor>>;

/** How one queued event is stamped. */
export interface FixtureEventMeta {
  /** Default: the event's own id (a uuid v7), so no two events share a message id. */
  readonly commandId?: string;
  /** Default: the command id. */
  readonly correlationId?: string;
  /** Business time (RFC 3339 with offset). Default: the fixture's {@link FixtureDefaults.occurredAt}. */
  readonly occurredAt?: string;
  /** When the event was recorded (ms since the epoch; also its uuid v7's time). Default: now. */
  readonly recordedAtMs?: number;
}

/** What an event is stamped with when `add` does not say. */
export interface FixtureDefaults {
  /** Business time of events added without one; without it, `add` must be given `occurredAt`. */
  readonly occurredAt?: string;
}

/**
 * Hand-built events appended straight to a test namespace's streams, as the writers would append
 * them (same schemas, canonical encoding, subjects, `<commandId>:0` message ids, appends against
 * each stream's tail), including events no writer would accept today: what a projection, a rule
 * or a verifier must cope with by itself (legacy imports, poison, broken invariants).
 *
 * `add` queues, `flush` creates the partitions' streams if needed and appends each stream's
 * events in the order added, in chunks of {@link fixtureAppendChunkMessages}.
 */
export class EventFixture {
  private readonly queued = new Map<string, OutgoingMessage[]>();
  private readonly ensured = new Set<string>();

  /** `nc` may come later (`connect`): building a large fixture can outlast a connection's pings. */
  constructor(
    private nc: NatsConnection | undefined,
    readonly ns: string,
    private readonly actors: FixtureActors,
    private readonly defaults: FixtureDefaults = {},
  ) {}

  /** Sets the connection `flush` appends through. */
  connect(nc: NatsConnection): this {
    this.nc = nc;
    return this;
  }

  /** Queues one event of the latest version of `type` on `partition`'s stream of its context. */
  add<T extends EventType>(
    partition: string,
    type: T,
    data: EventData<T>,
    meta: FixtureEventMeta = {},
  ): this {
    const definition = latestDefinition(type);
    const occurredAt = meta.occurredAt ?? this.defaults.occurredAt;
    if (occurredAt === undefined) throw new Error(`EventFixture.add(${type}): no occurredAt and no default`);
    const recordedAt = meta.recordedAtMs ?? Date.now();
    const id = newEventId(recordedAt);
    const commandId = meta.commandId ?? id;
    const event = createEvent(definition as never, {
      id,
      partition,
      data,
      actor: this.actors[definition.context],
      commandId,
      correlationId: meta.correlationId ?? commandId,
      occurredAt,
      recordedAt: utcTimestamp(recordedAt),
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

  /** Appends everything queued, stream by stream, in the order added; returns each stream's last sequence. */
  async flush(): Promise<Map<string, number>> {
    if (this.nc === undefined) throw new Error('EventFixture.flush needs a NATS connection (connect)');
    const js = jetstream(this.nc);
    const jsm = await jetstreamManager(this.nc);
    const tails = new Map<string, number>();
    for (const [stream, messages] of this.queued) {
      const ref = parseStreamName(stream);
      if (ref === null) throw new Error(`EventFixture: ${stream} is not a partition stream`);
      if (!this.ensured.has(ref.partition)) {
        await ensurePartitionStreams(jsm, { partition: ref.partition, ns: this.ns });
        this.ensured.add(ref.partition);
      }
      let last = await lastSequence(jsm, stream);
      for (let start = 0; start < messages.length; start += fixtureAppendChunkMessages) {
        const result = await appendBatch(js, {
          stream,
          messages: messages.slice(start, start + fixtureAppendChunkMessages),
          expectedLastSeq: last,
        });
        last = result.lastSeq;
      }
      tails.set(stream, last);
    }
    this.queued.clear();
    return tails;
  }
}
