import { type EventBatchEncoder, newEventId } from '@fundtrace/events';
import type { OutgoingMessage } from './append';
import { eventIdFor } from './command-identity';

/** An event a decider made, before it has an id: its type and data (the version is the catalogue's). */
export interface DecidedEvent<T extends string = string> {
  readonly type: T;
  readonly data: unknown;
}

/**
 * The messages that append a command's events, as every writer appends them (ledger-api,
 * registry-api, audit-api's findings writer): each event's id derived from the command's content
 * hash and its index (`eventIdFor`, so a repeat of the command makes the same ids), and its
 * subject, canonical bytes and `Nats-Msg-Id` from the command's batch encoder (one envelope head
 * per command). `hash: null` gives each event a fresh uuid v7 instead: registry-api recognises a
 * repeated command by the digest its events carry, not by their ids. Benchmarks and tests that
 * write a stream as the writer would call this too, so what they append is byte for byte the
 * writer's. `startIndex` is the index of `events[0]` within the command (a roster encoded in slices).
 */
export function commandMessages<T extends string>(
  encoder: EventBatchEncoder,
  events: readonly DecidedEvent<T>[],
  o: {
    readonly nowMs: number;
    readonly hash: string | null;
    readonly versionOf: (type: T) => number;
    readonly startIndex?: number;
    readonly ns?: string;
  },
): Array<OutgoingMessage & { readonly eventId: string }> {
  const startIndex = o.startIndex ?? 0;
  return events.map((e, i) => {
    const index = startIndex + i;
    const event = {
      id: o.hash === null ? newEventId(o.nowMs) : eventIdFor(o.nowMs, o.hash, index),
      type: e.type,
      version: o.versionOf(e.type),
      data: e.data,
    };
    return {
      subject: encoder.subject(event, o.ns),
      bytes: encoder.encode(event),
      msgId: encoder.messageId(index),
      eventId: event.id,
    };
  });
}
