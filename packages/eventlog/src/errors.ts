/**
 * Typed errors for everything a caller of the event log must handle. Each carries
 * the facts needed to act on it (stream, sequences, indexes); none carries an event
 * payload, because payloads may hold encrypted personal data and errors get logged.
 */

/** Base class, so a caller can tell the event log's errors from everything else. */
export class EventlogError extends Error {
  override name = 'EventlogError';
}

/**
 * An append lost an optimistic-concurrency race: the stream's last sequence was not
 * the one the writer decided against. The writer catches up and decides again.
 */
export class AppendConflictError extends EventlogError {
  override name = 'AppendConflictError';
  readonly stream: string;
  readonly expectedLastSeq: number;
  /** The stream's last sequence as the server reported it, when it did. */
  readonly actualLastSeq: number | undefined;

  constructor(stream: string, expectedLastSeq: number, actualLastSeq: number | undefined, cause?: unknown) {
    super(
      `append to ${stream} expected last sequence ${expectedLastSeq}, but the stream is at ${actualLastSeq ?? 'an unknown sequence'}`,
      { cause },
    );
    this.stream = stream;
    this.expectedLastSeq = expectedLastSeq;
    this.actualLastSeq = actualLastSeq;
  }
}

/**
 * The server certainly did not store the message, for a reason other than a lost
 * race: 10054 (larger than the stream's `max_msg_size`), 10060 (the subject belongs
 * to another stream) or 503 (no stream captures the subject). Retrying the same
 * bytes fails again. Other server errors are unknown outcomes (see append.ts).
 */
export class AppendRejectedError extends EventlogError {
  override name = 'AppendRejectedError';
  readonly stream: string;
  /** JetStream's error code (`err_code`), e.g. 10054 for a message over the size limit. */
  readonly code: number;

  constructor(stream: string, code: number, description: string, cause?: unknown) {
    super(`append to ${stream} rejected by the server: ${description} (${code})`, { cause });
    this.stream = stream;
    this.code = code;
  }
}

/**
 * No answer came for an append (timeout, connection lost): the message may or may
 * not be stored. The caller reads the stream tail (`lastSequence`, `readRange`) or
 * retries with the same message ids and expected sequence, which the duplicate
 * window turns into a lookup of the original sequences.
 */
export class AppendOutcomeUnknownError extends EventlogError {
  override name = 'AppendOutcomeUnknownError';
  readonly stream: string;
  readonly expectedLastSeq: number;

  constructor(stream: string, expectedLastSeq: number, cause: unknown) {
    super(
      `append to ${stream} after sequence ${expectedLastSeq} has an unknown outcome: ${describe(cause)}`,
      {
        cause,
      },
    );
    this.stream = stream;
    this.expectedLastSeq = expectedLastSeq;
  }
}

/** One message of a batch that the stream holds: its index in the batch and its sequence. */
export interface StoredMessage {
  readonly index: number;
  readonly seq: number;
  /** True when the stream already held it (same message id): `seq` is the original. */
  readonly duplicate: boolean;
}

/**
 * A pipelined batch stopped at `firstFailedIndex`: exactly the messages in `stored`
 * (indexes 0 … firstFailedIndex-1, in order) are in the stream, and no message at or
 * after `firstFailedIndex` is. `cause` is the failure of that first message
 * (`AppendConflictError` for a lost race, `AppendRejectedError` otherwise).
 */
export class BatchCutShortError extends EventlogError {
  override name = 'BatchCutShortError';
  readonly stream: string;
  readonly stored: readonly StoredMessage[];
  readonly firstFailedIndex: number;
  override readonly cause: AppendConflictError | AppendRejectedError;

  constructor(
    stream: string,
    stored: readonly StoredMessage[],
    firstFailedIndex: number,
    cause: AppendConflictError | AppendRejectedError,
  ) {
    super(
      `batch append to ${stream} cut short at index ${firstFailedIndex} (${stored.length} stored): ${cause.message}`,
      { cause },
    );
    this.stream = stream;
    this.stored = stored;
    this.firstFailedIndex = firstFailedIndex;
    this.cause = cause;
  }
}

/**
 * A pipelined batch lost its answers from `firstUnknownIndex` on (timeout or lost
 * connection). The messages in `stored` are certainly in the stream; the others may
 * or may not be. Retry the same batch (same message ids, same expected sequence):
 * stored ones come back as duplicates with their original sequences.
 */
export class BatchOutcomeUnknownError extends EventlogError {
  override name = 'BatchOutcomeUnknownError';
  readonly stream: string;
  readonly stored: readonly StoredMessage[];
  readonly firstUnknownIndex: number;

  constructor(stream: string, stored: readonly StoredMessage[], firstUnknownIndex: number, cause: unknown) {
    super(
      `batch append to ${stream}: outcome unknown from index ${firstUnknownIndex} (${stored.length} certainly stored): ${describe(cause)}`,
      { cause },
    );
    this.stream = stream;
    this.stored = stored;
    this.firstUnknownIndex = firstUnknownIndex;
  }
}

/** One property of a stream that differs from what fundtrace requires. */
export interface StreamDifference {
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

/**
 * An existing stream is not configured as fundtrace requires. The event log never
 * reconfigures a stream silently: an operator decides (it may be a typo in a
 * namespace, or someone loosened `deny_delete`).
 */
export class StreamConfigMismatchError extends EventlogError {
  override name = 'StreamConfigMismatchError';
  readonly stream: string;
  readonly differences: readonly StreamDifference[];

  constructor(stream: string, differences: readonly StreamDifference[]) {
    super(
      `stream ${stream} is not configured as required: ${differences
        .map((d) => `${d.field} is ${JSON.stringify(d.actual)}, expected ${JSON.stringify(d.expected)}`)
        .join('; ')}`,
    );
    this.stream = stream;
    this.differences = differences;
  }
}

/** The stream does not exist (it is created by `ensurePartitionStreams`, never implicitly). */
export class StreamMissingError extends EventlogError {
  override name = 'StreamMissingError';
  readonly stream: string;

  constructor(stream: string, cause?: unknown) {
    super(`stream ${stream} does not exist`, { cause });
    this.stream = stream;
  }
}

/**
 * A stored message could not be decoded into an event (not JSON, unknown type or
 * version, schema mismatch). It is never skipped and never acked: it stays in place
 * for an operator, and whatever reads past it stops here.
 */
export class PoisonEventError extends EventlogError {
  override name = 'PoisonEventError';
  readonly stream: string;
  readonly seq: number;
  readonly subject: string;
  /** The `type` the message claims, when it is JSON with a string `type` (an operator's first clue). */
  readonly type: string | undefined;

  constructor(stream: string, seq: number, subject: string, cause: unknown, type?: string) {
    super(
      `stream ${stream} sequence ${seq} (${subject}${type === undefined ? '' : `, type ${type}`}) cannot be decoded: ${describe(cause)}`,
      { cause },
    );
    this.stream = stream;
    this.seq = seq;
    this.subject = subject;
    this.type = type;
  }
}

/**
 * Events arrived with a hole: after `afterSeq` the next one was not `missingSeq`.
 * Applying past a hole would make the read model silently wrong, so the projection stops.
 */
export class SequenceGapError extends EventlogError {
  override name = 'SequenceGapError';
  readonly stream: string;
  readonly missingSeq: number;
  readonly receivedSeq: number;

  constructor(stream: string, missingSeq: number, receivedSeq: number, detail: string) {
    super(`stream ${stream} is missing sequence ${missingSeq} (next received: ${receivedSeq}): ${detail}`);
    this.stream = stream;
    this.missingSeq = missingSeq;
    this.receivedSeq = receivedSeq;
  }
}

/**
 * A read heard nothing for `idleMs` while the stream holds more up to where the read ends: its
 * consumer sits on a server that froze or went away, or on a replica that stopped delivering
 * (decision 0127). Nothing is lost and nothing was skipped: every message yielded before it is the
 * stream's, in order, and the same read may be started again. For a writer it means NATS is
 * unavailable: the command is refused (503) and the next one catches up from where its state ends.
 */
export class StreamReadStalledError extends EventlogError {
  override name = 'StreamReadStalledError';
  readonly stream: string;
  /** The sequence the read was waiting for. */
  readonly waitingForSeq: number;
  /** Where the read was to end (inclusive). */
  readonly toSeq: number;
  readonly idleMs: number;

  constructor(stream: string, waitingForSeq: number, toSeq: number, idleMs: number) {
    super(
      `reading ${stream}: no message for ${idleMs} ms while waiting for sequence ${waitingForSeq} (reading up to ${toSeq})`,
    );
    this.stream = stream;
    this.waitingForSeq = waitingForSeq;
    this.toSeq = toSeq;
    this.idleMs = idleMs;
  }
}

/** Something that must never happen did (a broken invariant). The process should stop. */
export class EventlogInvariantError extends EventlogError {
  override name = 'EventlogInvariantError';
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
