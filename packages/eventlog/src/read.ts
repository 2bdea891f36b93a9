import { decodeEvent, decodeStoredEvent } from '@fundtrace/events';
import { DeliverPolicy, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import { EventlogInvariantError, PoisonEventError, SequenceGapError, StreamReadStalledError } from './errors';
import { readBatchMessagesMax, readIdleMs } from './limits';
import { lastSequence } from './streams';

/** A decoded event as the codecs of @fundtrace/events produce it. */
export type DecodedEvent = ReturnType<typeof decodeEvent>;

/** One stored message as read back: where it is, its exact bytes and headers. */
export interface RawStreamMessage {
  readonly stream: string;
  readonly seq: number;
  readonly subject: string;
  /** The canonical bytes, exactly as stored (and as hashed into the Merkle log). */
  readonly bytes: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  /** `Nats-Msg-Id`, if the message carried one. */
  readonly msgId: string | undefined;
}

/** A stored message with its decoded event. */
export interface StreamEvent extends RawStreamMessage {
  readonly event: DecodedEvent;
}

export interface ReadStreamOptions {
  readonly stream: string;
  /** First sequence to read (≥ 1). */
  readonly fromSeq: number;
  /**
   * Last sequence to read, inclusive. Default: the stream's last sequence when the
   * read starts, so a read always ends even while writers keep appending.
   */
  readonly toSeq?: number;
  /**
   * A sequence the caller knows the stream holds (an append's answer showed it: the stream leader
   * checked the expected last sequence against it): the read does not end before it (nor after
   * `toSeq`), whatever a stale stream info says (decision 0122).
   */
  readonly atLeastSeq?: number;
  /**
   * How long the read waits for its next message before it stops with `StreamReadStalledError`
   * (default `readIdleMs`, decision 0127). Only the waiting counts, not the time the caller takes
   * between two messages.
   */
  readonly idleMs?: number;
}

/** The most messages `readRange` returns at once: it holds them all in memory. */
export const readRangeMessagesMax = 10_000;

const msgIdHeader = 'Nats-Msg-Id';

function toRaw(stream: string, m: JsMsg): RawStreamMessage {
  return {
    stream,
    seq: m.seq,
    subject: m.subject,
    bytes: m.data,
    headers: m.headers,
    msgId: m.headers?.get(msgIdHeader) || undefined,
  };
}

/** A stored message with its decoded event and its payload as stored (wire form). */
export interface StreamEventWithData extends StreamEvent {
  /** The payload parsed from the bytes, before upcasting and codecs (see `decodeStoredEvent`). */
  readonly wireData: unknown;
}

function poison(message: RawStreamMessage, error: unknown): PoisonEventError {
  return new PoisonEventError(
    message.stream,
    message.seq,
    message.subject,
    error,
    claimedType(message.bytes),
  );
}

/** Decodes one stored message; an undecodable one is a `PoisonEventError` naming stream and sequence. */
export function decodeStreamMessage(message: RawStreamMessage): StreamEvent {
  let event: DecodedEvent;
  try {
    event = decodeEvent(message.bytes);
  } catch (error) {
    throw poison(message, error);
  }
  return {
    stream: message.stream,
    seq: message.seq,
    subject: message.subject,
    bytes: message.bytes,
    headers: message.headers,
    msgId: message.msgId,
    event,
  };
}

/**
 * `decodeStreamMessage` that keeps the stored payload too, from the one parse of the bytes: for a
 * projection that stores the payload as written (the projector's `events.data`).
 */
export function decodeStreamMessageWithData(message: RawStreamMessage): StreamEventWithData {
  let decoded: ReturnType<typeof decodeStoredEvent>;
  try {
    decoded = decodeStoredEvent(message.bytes);
  } catch (error) {
    throw poison(message, error);
  }
  // The message's fields named one by one: a spread of it cost a tenth of the whole decoding.
  return {
    stream: message.stream,
    seq: message.seq,
    subject: message.subject,
    bytes: message.bytes,
    headers: message.headers,
    msgId: message.msgId,
    event: decoded.event,
    wireData: decoded.wireData,
  };
}

const typeNameMax = 64;

/** The `type` an undecodable message claims, if it is JSON with a short string `type`; never its payload. */
function claimedType(bytes: Uint8Array): string | undefined {
  try {
    const type = (JSON.parse(new TextDecoder().decode(bytes)) as { type?: unknown } | null)?.type;
    return typeof type === 'string' && type.length <= typeNameMax && /^[A-Za-z0-9_]+$/.test(type)
      ? type
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads stored messages in sequence order without decoding them (the Merkle
 * log-keeper hashes bytes; it has no use for decoded events).
 *
 * Implementation: an ordered consumer (an ephemeral, flow-controlled, no-ack pull
 * consumer the client recreates at the right sequence if it ever sees a hole or a
 * reconnect). On nats-server 2.9 it is the only bulk read: batched direct get needs
 * 2.11, and single direct gets cost one round trip per event (see README for the
 * measurement). Sequences are checked to be contiguous: the streams deny deletes,
 * so a hole means lost data and is reported as `SequenceGapError`.
 *
 * Where the read ends (decision 0122): at the tail as the read found it, taking the largest of
 * three views, because on an R3 stream right after a restart stream info can come from a stale
 * replica and report a short tail: the stream info's last sequence, the tail the consumer's own
 * server reports with the first message it delivers (its sequence plus the messages still pending
 * after it), and `atLeastSeq`. Never past `toSeq`.
 *
 * A read that waits `idleMs` for its next message before it reaches its end stops, closes its
 * consumer and throws `StreamReadStalledError` (decision 0127): the ordered consumer itself would
 * wait for a frozen or vanished server forever.
 */
export async function* readStreamRaw(
  js: JetStreamClient,
  options: ReadStreamOptions,
): AsyncGenerator<RawStreamMessage> {
  const { stream, fromSeq } = options;
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) {
    throw new RangeError(`fromSeq must be a positive integer, got ${fromSeq}`);
  }
  if (options.toSeq !== undefined && (!Number.isSafeInteger(options.toSeq) || options.toSeq < 0)) {
    throw new RangeError(`toSeq must be a non-negative integer, got ${options.toSeq}`);
  }
  const { atLeastSeq = 0 } = options;
  if (!Number.isSafeInteger(atLeastSeq) || atLeastSeq < 0) {
    throw new RangeError(`atLeastSeq must be a non-negative integer, got ${atLeastSeq}`);
  }
  const { idleMs = readIdleMs } = options;
  if (!Number.isSafeInteger(idleMs) || idleMs < 1) {
    throw new RangeError(`idleMs must be a positive integer, got ${idleMs}`);
  }
  // Without checkAPI: a manager per read asked the server for the account's info first, one more
  // round trip before every read (a writer's catch-up reads after each lost race).
  const last = await lastSequence(await js.jetstreamManager(false), stream);
  const bound = options.toSeq ?? Number.MAX_SAFE_INTEGER;
  let toSeq = Math.min(bound, Math.max(last, atLeastSeq));
  // (Stream info reporting nothing beyond fromSeq is believed without a consumer, which would cost
  // two more round trips on every catch-up that finds nothing new; a writer that decided on such
  // a stale answer learns the real tail from its append's conflict and passes it as atLeastSeq.)
  if (fromSeq > toSeq) return;

  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq,
  });
  const messages = await consumer.consume({
    max_messages: Math.min(readBatchMessagesMax, toSeq - fromSeq + 1),
  });
  let expected = fromSeq;
  let reached = false;
  // The idle bound runs only while the read waits for the consumer. `waiting` changes whenever it
  // is armed or disarmed, so a check scheduled before the latest change does nothing.
  let waiting = 0;
  let timer: NodeJS.Timeout | undefined;
  let stalled: StreamReadStalledError | undefined;
  const arm = () => {
    const mine = ++waiting;
    timer = setTimeout(() => {
      // Decided after the I/O that follows the timers: if this process was busy for the whole
      // bound, messages the server sent meanwhile wait in the socket and are read first; their
      // delivery disarms the bound, and a working server is not called stalled.
      setImmediate(() => {
        if (mine !== waiting) return;
        stalled = new StreamReadStalledError(stream, expected, toSeq, idleMs);
        // Ends the consumer's iterator with this error: the `for await` below throws it.
        messages.stop(stalled);
      });
    }, idleMs);
  };
  const disarm = () => {
    waiting++;
    clearTimeout(timer);
  };
  try {
    arm();
    for await (const m of messages) {
      disarm();
      if (m.seq !== expected) {
        if (m.seq < expected) {
          throw new EventlogInvariantError(
            `reading ${stream}: sequence went back from ${expected - 1} to ${m.seq}`,
          );
        }
        throw new SequenceGapError(stream, expected, m.seq, 'the stream holds no message there');
      }
      // The consumer's server's view of the tail, as the read started: it may know more than a
      // stale stream info did (0122). Only the first message's: later ones would chase a stream
      // that keeps growing.
      if (m.seq === fromSeq) toSeq = Math.min(bound, Math.max(toSeq, m.seq + m.info.pending));
      yield toRaw(stream, m);
      if (m.seq >= toSeq) {
        reached = true;
        break;
      }
      expected++;
      arm();
    }
  } finally {
    disarm();
    await messages.close();
    // The server would reap the ephemeral consumer after its inactivity threshold;
    // deleting it now keeps a busy server tidy. Best effort: it may already be gone. After a stall
    // the server may not answer at all: the delete is sent, not waited for.
    const deleted = consumer.delete().catch(() => false);
    if (stalled === undefined) await deleted;
  }
  if (!reached) {
    throw new EventlogInvariantError(
      `reading ${stream}: the read ended before ${expected}, expected up to ${toSeq}`,
    );
  }
}

/**
 * Reads and decodes events in sequence order: what a writer uses to rebuild its
 * state. Stops with `PoisonEventError` at the first message that does not decode.
 */
export async function* readStream(
  js: JetStreamClient,
  options: ReadStreamOptions,
): AsyncGenerator<StreamEvent> {
  for await (const message of readStreamRaw(js, options)) yield decodeStreamMessage(message);
}

/**
 * Reads a bounded range into memory, undecoded: what a writer uses after an
 * unknown append outcome, to see which of its message ids the tail holds.
 */
export async function readRange(
  js: JetStreamClient,
  options: ReadStreamOptions & { readonly toSeq: number },
): Promise<RawStreamMessage[]> {
  const count = options.toSeq - options.fromSeq + 1;
  if (count > readRangeMessagesMax) {
    throw new RangeError(`readRange of ${count} messages, at most ${readRangeMessagesMax}; use readStream`);
  }
  const out: RawStreamMessage[] = [];
  for await (const message of readStreamRaw(js, options)) out.push(message);
  return out;
}
