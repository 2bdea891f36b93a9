import { JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import {
  createInbox,
  headers,
  type Msg,
  type NatsConnection,
  type Subscription,
  TimeoutError,
} from '@nats-io/nats-core';
import {
  AppendConflictError,
  AppendOutcomeUnknownError,
  AppendRejectedError,
  BatchCutShortError,
  BatchOutcomeUnknownError,
  EventlogInvariantError,
  type StoredMessage,
} from './errors';
import {
  appendAckTimeoutMs,
  appendBatchMessagesMax,
  appendInFlightMax,
  appendNoRespondersPauseMaxMs,
  appendNoRespondersPauseMinMs,
  appendNoRespondersRetryMs,
} from './limits';

/** JetStream error codes an append can meet (nats-server's errors.json). */
export const jetStreamCodes = {
  /** `Nats-Expected-Last-Sequence` did not match: someone appended first. */
  wrongLastSequence: 10071,
  /** `Nats-Expected-Last-Msg-Id` did not match: the message before ours is not ours. */
  wrongLastMsgId: 10070,
  /** Larger than the stream's `max_msg_size`. */
  messageTooLarge: 10054,
  /** `Nats-Expected-Stream` did not match: the subject belongs to another stream. */
  wrongStream: 10060,
} as const;

/** Stand-in code when nothing answers on the subject (no stream captures it). */
export const noStreamCode = 503;

/** One message ready to append: the canonical bytes of an encoded event and its id. */
export interface OutgoingMessage {
  readonly subject: string;
  readonly bytes: Uint8Array;
  /** Becomes `Nats-Msg-Id`: `<commandId>:<index>` (see docs/CONVENTIONS.md). */
  readonly msgId: string;
}

export interface AppendResult {
  readonly seq: number;
  /** True when the stream already held this message id: `seq` is the original's. */
  readonly duplicate: boolean;
}

export interface AppendOptions {
  readonly stream: string;
  readonly message: OutgoingMessage;
  /** The stream's last sequence the writer decided against (0 for an empty stream). */
  readonly expectedLastSeq: number;
  readonly ackTimeoutMs?: number;
  /** How long "no responders" is waited out (default `appendNoRespondersRetryMs`); tests shorten it. */
  readonly noRespondersRetryMs?: number;
}

export interface AppendBatchOptions {
  readonly stream: string;
  readonly messages: readonly OutgoingMessage[];
  /**
   * The stream's last sequence the writer decided against. Message i must land at
   * expectedLastSeq + i + 1. A retry of the same batch passes the same value.
   */
  readonly expectedLastSeq: number;
  readonly inFlightMax?: number;
  readonly ackTimeoutMs?: number;
  /**
   * How long a message answered "no responders" (a stream between leaders) is sent again before
   * the batch is cut short there (default `appendNoRespondersRetryMs`; 0: at once). Decision 0038.
   */
  readonly noRespondersRetryMs?: number;
  /**
   * The connection under `js`. With it the burst is written as plain publishes whose acks come back
   * on one subscription for the whole batch, instead of one `js.publish` request per message (each
   * of which takes a reply subscription slot, a timer and two or three error objects with stack
   * traces, for the timeout it almost never meets): same headers, same bytes, same outcomes (a
   * property test compares both paths). Decision 0035.
   */
  readonly connection?: NatsConnection;
}

export interface AppendBatchResult {
  /** One entry per message, in order. */
  readonly stored: readonly StoredMessage[];
  /** The sequence of the batch's last message. */
  readonly lastSeq: number;
}

type Outcome =
  | { readonly kind: 'stored'; readonly seq: number; readonly duplicate: boolean }
  | { readonly kind: 'failed'; readonly error: AppendConflictError | AppendRejectedError }
  | { readonly kind: 'unknown'; readonly cause: unknown };

const wrongLastSequencePattern = /wrong last sequence: (\d+)/;

/** "No responders": nothing listened on the subject, so nothing stored the message. */
function isNoResponders(outcome: Outcome): boolean {
  return (
    outcome.kind === 'failed' &&
    outcome.error instanceof AppendRejectedError &&
    outcome.error.code === noStreamCode
  );
}

/**
 * Waits out "no responders" (decision 0038): the first call of a stretch starts its clock; answers
 * false once `retryMs` have passed (give up), else pauses (doubling) and answers true (send again).
 * `progress()` ends the stretch: the stream answered.
 */
function noRespondersWait(retryMs: number) {
  let since: number | undefined;
  let pauseMs = appendNoRespondersPauseMinMs;
  return {
    async again(): Promise<boolean> {
      const now = performance.now();
      const start = since ?? now;
      since = start;
      if (now - start >= retryMs) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pauseMs, start + retryMs - now)));
      pauseMs = Math.min(pauseMs * 2, appendNoRespondersPauseMaxMs);
      return true;
    },
    progress(): void {
      since = undefined;
      pauseMs = appendNoRespondersPauseMinMs;
    },
  };
}

function assertSequence(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

function assertMessage(message: OutgoingMessage, where: string): void {
  if (message.msgId.length === 0) throw new RangeError(`${where}: msgId must not be empty`);
  if (message.subject.length === 0) throw new RangeError(`${where}: subject must not be empty`);
}

/** Turns a publish failure into what it means for the caller: definite or unknown. */
function classify(stream: string, expectedLastSeq: number, error: unknown): Outcome {
  if (error instanceof JetStreamApiError) {
    const { code } = error;
    if (code === jetStreamCodes.wrongLastSequence) {
      const match = wrongLastSequencePattern.exec(error.message);
      const actual = match?.[1] === undefined ? undefined : Number(match[1]);
      return { kind: 'failed', error: new AppendConflictError(stream, expectedLastSeq, actual, error) };
    }
    if (code === jetStreamCodes.wrongLastMsgId) {
      return { kind: 'failed', error: new AppendConflictError(stream, expectedLastSeq, undefined, error) };
    }
    if (code === jetStreamCodes.messageTooLarge || code === jetStreamCodes.wrongStream) {
      return { kind: 'failed', error: new AppendRejectedError(stream, code, error.message, error) };
    }
    // Any other server error may come from a stream leader that is losing its place
    // (an election, a lost quorum) after it proposed the message: a new leader can
    // still commit it. Only the checks above are known to run before anything is
    // stored, so everything else is an unknown outcome, settled by a same-id retry.
    return { kind: 'unknown', cause: error };
  }
  // The client reports "no responders" (nothing listens on the subject) this way
  // (the class is not exported from the package's public entry, hence the name
  // test): nothing received the message, so it is certainly not stored.
  if (error instanceof Error && error.name === 'JetStreamNotEnabled') {
    return {
      kind: 'failed',
      error: new AppendRejectedError(
        stream,
        noStreamCode,
        // Given up only after the wait of decision 0038: named, so that an operator can tell a
        // long election from a subject no stream captures (a configuration error).
        `no stream captures the subject, or its stream had no leader for all of noRespondersRetryMs (default ${appendNoRespondersRetryMs} ms) (${error.message})`,
        error,
      ),
    };
  }
  // Timeouts, a lost or closed connection: the server may have stored it.
  return { kind: 'unknown', cause: error };
}

/**
 * The connection a JetStream client publishes on, for `AppendBatchOptions.connection`; undefined
 * when `js` is not the client of @nats-io/jetstream (which keeps it as `nc`, not in its types).
 */
export function connectionOf(js: JetStreamClient): NatsConnection | undefined {
  const nc = (js as unknown as { nc?: Partial<NatsConnection> }).nc;
  return typeof nc?.publish === 'function' && typeof nc.subscribe === 'function'
    ? (nc as NatsConnection)
    : undefined;
}

/** What a JetStream publish ack (or a no-responders status) says, the way `js.publish` reads it. */
function outcomeOfAck(stream: string, expectedLastSeq: number, msg: Msg): Outcome {
  if (msg.data.length === 0 && msg.headers?.code === 503) {
    const error = Object.assign(new Error('jetstream is not enabled'), { name: 'JetStreamNotEnabled' });
    return classify(stream, expectedLastSeq, error);
  }
  let ack: { stream?: string; seq?: number; duplicate?: boolean; error?: ApiErrorBody };
  try {
    ack = msg.json();
  } catch (error) {
    return { kind: 'unknown', cause: error };
  }
  if (ack.error !== undefined) return classify(stream, expectedLastSeq, new JetStreamApiError(ack.error));
  if (ack.stream !== stream) {
    throw new EventlogInvariantError(`append to ${stream} was stored in ${ack.stream}`);
  }
  if (!Number.isSafeInteger(ack.seq)) return { kind: 'unknown', cause: new Error('ack without a sequence') };
  return { kind: 'stored', seq: ack.seq!, duplicate: ack.duplicate === true };
}

interface ApiErrorBody {
  code: number;
  err_code: number;
  description: string;
}

/**
 * One subscription per connection for the acks of every direct batch: `<inbox>.<batch>.<index>`.
 * A subscription per batch cost a SUB and an UNSUB (two more socket writes) for every command a
 * writer appends alone. It lives as long as the connection (the client re-subscribes it after a
 * reconnect); when it closes, every open batch hears so and the next batch opens a new one.
 */
class AckInbox {
  private readonly root = `${createInbox()}.`;
  private readonly batches = new Map<
    number,
    { ack: (index: number, msg: Msg) => void; gone: (cause: unknown) => void }
  >();
  private nextBatch = 0;
  private readonly sub: Subscription;

  constructor(nc: NatsConnection) {
    this.sub = nc.subscribe(`${this.root}>`, {
      callback: (error, msg) => {
        if (error !== null) {
          for (const batch of [...this.batches.values()]) batch.gone(error);
          return;
        }
        const rest = msg.subject.slice(this.root.length);
        const dot = rest.indexOf('.');
        this.batches.get(Number(rest.slice(0, dot)))?.ack(Number(rest.slice(dot + 1)), msg);
      },
    });
    const closed = (cause: unknown) => {
      if (ackInboxes.get(nc) === this) ackInboxes.delete(nc);
      for (const batch of [...this.batches.values()]) batch.gone(cause);
    };
    void this.sub.closed.then(() => closed(new Error('the connection closed before the ack came')), closed);
  }

  get isClosed(): boolean {
    return this.sub.isClosed();
  }

  open(ack: (index: number, msg: Msg) => void, gone: (cause: unknown) => void) {
    const id = this.nextBatch++;
    this.batches.set(id, { ack, gone });
    return { prefix: `${this.root}${id}.`, close: () => this.batches.delete(id) };
  }
}

const ackInboxes = new WeakMap<NatsConnection, AckInbox>();

function ackInboxOf(nc: NatsConnection): AckInbox {
  let inbox = ackInboxes.get(nc);
  if (inbox === undefined || inbox.isClosed) {
    inbox = new AckInbox(nc);
    ackInboxes.set(nc, inbox);
  }
  return inbox;
}

/**
 * Sends a batch's messages as plain publishes with a reply subject per message on the
 * connection's ack inbox: `<inbox>.<batch>.<index>`. Each message gets its outcome when its ack
 * arrives; a message unanswered `ackTimeoutMs` after it was sent, or any message still waiting
 * when the connection closes, has an unknown outcome, as a timed-out `js.publish` has.
 */
function directSender(nc: NatsConnection, stream: string, ackTimeoutMs: number) {
  interface Waiting {
    readonly expectedLastSeq: number;
    readonly at: number;
    readonly resolve: (outcome: Outcome) => void;
    readonly reject: (error: unknown) => void;
  }
  const waiting = new Map<number, Waiting>();
  let timer: NodeJS.Timeout | undefined;
  const settle = (index: number, result: (w: Waiting) => Outcome) => {
    const w = waiting.get(index);
    if (w === undefined) return; // already settled (timed out before its ack came)
    waiting.delete(index);
    try {
      w.resolve(result(w));
    } catch (error) {
      w.reject(error);
    }
  };
  const unknownAll = (cause: unknown) => {
    for (const index of [...waiting.keys()]) settle(index, () => ({ kind: 'unknown', cause }));
  };
  // The oldest waiting message is the first to time out: one timer, re-armed for the next oldest.
  const watch = () => {
    timer = undefined;
    const now = performance.now();
    for (const [index, w] of waiting) {
      const due = w.at + ackTimeoutMs - now;
      if (due > 0) {
        timer = setTimeout(watch, due);
        return;
      }
      settle(index, () => ({ kind: 'unknown', cause: new TimeoutError() }));
    }
  };
  let inbox: { readonly prefix: string; close(): void } | undefined;
  let refused: unknown;
  const open = () => {
    try {
      inbox = ackInboxOf(nc).open(
        (index, msg) => settle(index, (w) => outcomeOfAck(stream, w.expectedLastSeq, msg)),
        unknownAll,
      );
    } catch (error) {
      inbox = undefined;
      refused = error; // a closed connection: nothing can be sent
    }
  };
  open();
  return {
    /**
     * Before messages are sent again: answers to the earlier copies (a late ack of one that timed
     * out) go to a closed batch of the inbox, never to the new copy with the same index.
     */
    forget() {
      inbox?.close();
      open();
    },
    send(
      message: OutgoingMessage,
      index: number,
      expectedLastSeq: number,
      previousMsgId: string | undefined,
    ) {
      if (inbox === undefined) return Promise.resolve(classify(stream, expectedLastSeq, refused));
      const h = headers();
      h.set('Nats-Msg-Id', message.msgId);
      if (previousMsgId !== undefined) h.set('Nats-Expected-Last-Msg-Id', previousMsgId);
      h.set('Nats-Expected-Stream', stream);
      h.set('Nats-Expected-Last-Sequence', String(expectedLastSeq));
      return new Promise<Outcome>((resolve, reject) => {
        waiting.set(index, { expectedLastSeq, at: performance.now(), resolve, reject });
        if (timer === undefined) timer = setTimeout(watch, ackTimeoutMs);
        try {
          nc.publish(message.subject, message.bytes, { reply: `${inbox!.prefix}${index}`, headers: h });
        } catch (error) {
          // Refused before it left (a closed connection, a payload over max_payload).
          settle(index, () => classify(stream, expectedLastSeq, error));
        }
      });
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      unknownAll(new Error('batch closed'));
      inbox?.close();
    },
  };
}

async function publishOne(
  js: JetStreamClient,
  stream: string,
  message: OutgoingMessage,
  expectedLastSeq: number,
  previousMsgId: string | undefined,
  ackTimeoutMs: number,
): Promise<Outcome> {
  try {
    const ack = await js.publish(message.subject, message.bytes, {
      msgID: message.msgId,
      timeout: ackTimeoutMs,
      expect: {
        streamName: stream,
        lastSequence: expectedLastSeq,
        ...(previousMsgId === undefined ? {} : { lastMsgID: previousMsgId }),
      },
    });
    if (ack.stream !== stream) {
      throw new EventlogInvariantError(`append to ${stream} was stored in ${ack.stream}`);
    }
    return { kind: 'stored', seq: ack.seq, duplicate: ack.duplicate };
  } catch (error) {
    if (error instanceof EventlogInvariantError) throw error;
    return classify(stream, expectedLastSeq, error);
  }
}

/**
 * Appends one message if and only if the stream's last sequence is `expectedLastSeq`
 * (optimistic concurrency: `Nats-Expected-Last-Sequence`), deduplicated by its
 * `Nats-Msg-Id`. A repeat within the duplicate window returns the original sequence
 * with `duplicate: true`, whatever the stream's tail is now.
 *
 * "No responders" (a stream between leaders) is waited out for `noRespondersRetryMs`.
 *
 * Throws `AppendConflictError` when another append came first,
 * `AppendRejectedError` when the server refuses the message itself (or nothing
 * answered on the subject for `noRespondersRetryMs`), and
 * `AppendOutcomeUnknownError` when no answer came.
 */
export async function append(js: JetStreamClient, options: AppendOptions): Promise<AppendResult> {
  assertSequence('expectedLastSeq', options.expectedLastSeq);
  assertMessage(options.message, `append to ${options.stream}`);
  const unanswered = noRespondersWait(options.noRespondersRetryMs ?? appendNoRespondersRetryMs);
  let outcome: Outcome;
  do {
    outcome = await publishOne(
      js,
      options.stream,
      options.message,
      options.expectedLastSeq,
      undefined,
      options.ackTimeoutMs ?? appendAckTimeoutMs,
    );
  } while (isNoResponders(outcome) && (await unanswered.again()));
  switch (outcome.kind) {
    case 'stored':
      if (!outcome.duplicate && outcome.seq !== options.expectedLastSeq + 1) {
        throw new EventlogInvariantError(
          `append to ${options.stream} expected sequence ${options.expectedLastSeq + 1}, server stored it at ${outcome.seq}`,
        );
      }
      return { seq: outcome.seq, duplicate: outcome.duplicate };
    case 'failed':
      throw outcome.error;
    case 'unknown':
      throw new AppendOutcomeUnknownError(options.stream, options.expectedLastSeq, outcome.cause);
  }
}

/**
 * Appends messages as one pipelined burst: message i is published expecting the
 * stream's last sequence to be `expectedLastSeq + i` and (for i > 0) the last
 * message id to be message i-1's, without waiting for earlier acks (at most
 * `inFlightMax` unacknowledged). Acks are then read in order.
 *
 * Why both expectations: the sequence alone is not enough. If another writer's
 * message lands in the slot of message k, message k fails, but message k+1 (which
 * expects exactly that sequence) would succeed and leave a hole in the batch. The
 * message-id chain makes k+1 fail too, so a batch is always stored as a prefix.
 *
 * A message answered "no responders" (no stream leader listens: an election, a restart) is sent
 * again from there, with everything after it, for up to `noRespondersRetryMs` (decision 0038).
 *
 * Throws `BatchCutShortError` (stored = exactly the prefix, nothing after it) or
 * `BatchOutcomeUnknownError` (stored = the certain prefix; retry the same batch with
 * the same `expectedLastSeq`: stored messages come back as duplicates).
 */
export async function appendBatch(
  js: JetStreamClient,
  options: AppendBatchOptions,
): Promise<AppendBatchResult> {
  const { stream, messages, expectedLastSeq } = options;
  const inFlightMax = options.inFlightMax ?? appendInFlightMax;
  const ackTimeoutMs = options.ackTimeoutMs ?? appendAckTimeoutMs;
  assertSequence('expectedLastSeq', expectedLastSeq);
  if (messages.length === 0) throw new RangeError(`batch append to ${stream}: no messages`);
  if (messages.length > appendBatchMessagesMax) {
    throw new RangeError(
      `batch append to ${stream}: ${messages.length} messages, at most ${appendBatchMessagesMax}`,
    );
  }
  if (!Number.isSafeInteger(inFlightMax) || inFlightMax < 1) {
    throw new RangeError(`inFlightMax must be a positive integer, got ${inFlightMax}`);
  }
  const ids = new Set<string>();
  messages.forEach((message, index) => {
    assertMessage(message, `batch append to ${stream}, message ${index}`);
    // A repeated id inside one batch would be dropped as a duplicate and break the chain.
    if (ids.has(message.msgId)) {
      throw new RangeError(`batch append to ${stream}: message ${index} repeats msgId ${message.msgId}`);
    }
    ids.add(message.msgId);
  });

  const direct =
    options.connection === undefined ? undefined : directSender(options.connection, stream, ackTimeoutMs);
  try {
    return await sendBatch(
      messages,
      expectedLastSeq,
      inFlightMax,
      stream,
      options.noRespondersRetryMs ?? appendNoRespondersRetryMs,
      (message, index, previous) =>
        direct === undefined
          ? publishOne(js, stream, message, expectedLastSeq + index, previous, ackTimeoutMs)
          : direct.send(message, index, expectedLastSeq + index, previous),
      () => direct?.forget(),
    );
  } finally {
    direct?.close();
  }
}

/**
 * The pipelined burst, whichever way each message is published: window, ordered acks, exact prefix,
 * and "no responders" waited out for `noRespondersRetryMs` (`forget` drops answers to the copies
 * already sent before sending again).
 */
async function sendBatch(
  messages: readonly OutgoingMessage[],
  expectedLastSeq: number,
  inFlightMax: number,
  stream: string,
  noRespondersRetryMs: number,
  publish: (message: OutgoingMessage, index: number, previousMsgId: string | undefined) => Promise<Outcome>,
  forget: () => void,
): Promise<AppendBatchResult> {
  const pending: Promise<Outcome>[] = [];
  let sent = 0;
  const send = (index: number) => {
    const message = messages[index]!;
    const previous = index === 0 ? undefined : messages[index - 1]!.msgId;
    pending[index] = publish(message, index, previous);
  };

  const stored: StoredMessage[] = [];
  let stop: { index: number; outcome: Exclude<Outcome, { kind: 'stored' }> } | undefined;
  const unanswered = noRespondersWait(noRespondersRetryMs);
  for (let index = 0; index < messages.length; index++) {
    while (sent < messages.length && sent - index < inFlightMax) send(sent++);
    const outcome = await pending[index]!;
    if (isNoResponders(outcome)) {
      // Nothing received message `index`: the stream is between leaders (decision 0038). Let every
      // later message on the wire be answered first (each expects `index` before it, so none can
      // be stored, unless another writer stored this very message: then the copies sent again
      // are answered as duplicates), then send them again from `index`: the same bytes, ids and
      // expectations, so whichever copy of a message lands first takes its slot and every other
      // copy is a duplicate. The expected sequence cannot be met by a copy sent earlier that
      // landed meanwhile: the stream holds it under this id, and the duplicate check comes first.
      await Promise.all(pending.slice(index + 1, sent));
      if (await unanswered.again()) {
        forget();
        sent = index;
        index--;
        continue;
      }
    }
    if (outcome.kind !== 'stored') {
      stop = { index, outcome };
      break;
    }
    unanswered.progress();
    if (!outcome.duplicate && outcome.seq !== expectedLastSeq + index + 1) {
      throw new EventlogInvariantError(
        `batch append to ${stream}: message ${index} expected at sequence ${expectedLastSeq + index + 1}, stored at ${outcome.seq}`,
      );
    }
    stored.push({ index, seq: outcome.seq, duplicate: outcome.duplicate });
  }

  if (stop === undefined) {
    return { stored, lastSeq: stored[stored.length - 1]!.seq };
  }

  // Settle everything already on the wire before answering. After a definite
  // failure none of them may be stored: the expectations guarantee it for new
  // messages. A duplicate there would mean a previous attempt stored a later message
  // whose id outlived its predecessor's in the duplicate window (a retry at the very
  // edge of the window); either way the caller's picture would be wrong, so it is an
  // invariant error naming the stray sequences. Except after a lost race: the writer
  // that won may have stored the very same messages (two instances given the same
  // command by a retrying client), and the loser catches up and finds them there.
  const later = await Promise.all(pending.slice(stop.index + 1, sent));
  if (stop.outcome.kind === 'failed') {
    const lostRace = stop.outcome.error instanceof AppendConflictError;
    const strays = later.flatMap((outcome, offset) =>
      outcome.kind === 'stored' && !(lostRace && outcome.duplicate)
        ? [`index ${stop.index + 1 + offset} at ${outcome.seq}`]
        : [],
    );
    if (strays.length > 0) {
      throw new EventlogInvariantError(
        `batch append to ${stream} failed at index ${stop.index} but later messages were stored: ${strays.join(', ')}`,
      );
    }
    throw new BatchCutShortError(stream, stored, stop.index, stop.outcome.error);
  }
  throw new BatchOutcomeUnknownError(stream, stored, stop.index, stop.outcome.cause);
}
