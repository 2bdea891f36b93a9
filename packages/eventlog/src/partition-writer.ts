import type { Context } from '@fundtrace/events';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type AppendBatchResult, appendBatch, type OutgoingMessage } from './append';
import {
  AppendConflictError,
  AppendOutcomeUnknownError,
  BatchCutShortError,
  BatchOutcomeUnknownError,
  type StoredMessage,
} from './errors';
import { decodeStreamMessage, type RawStreamMessage, readStreamRaw, type StreamEvent } from './read';
import { ensurePartitionStreams } from './streams';

/**
 * What the single writers of a partition stream share (ledger-api's LedgerWriter, registry-api's
 * RegistryWriter, audit-api's AuditWriter): create or verify the stream, fold what it holds beyond
 * the writer's state, and append at the writer's tail, where a lost race or an unknown outcome
 * means "catch up and decide again" (decision 0003's protocol).
 */

/**
 * Creates or verifies the one stream `context` of `partition` a writer writes (STREAM_REPLICAS),
 * and the streams it reads (`reads`: ledger-api tails the partition's REGISTRY stream), with the
 * same settings, so a fresh partition starts with every stream its writer needs.
 */
export async function openPartitionStream(
  jsm: JetStreamManager,
  options: {
    readonly partition: string;
    readonly context: Context;
    readonly ns: string;
    readonly replicas?: number;
    readonly reads?: readonly Context[];
  },
): Promise<void> {
  await ensurePartitionStreams(jsm, {
    partition: options.partition,
    contexts: [options.context, ...(options.reads ?? []).filter((c) => c !== options.context)],
    ns: options.ns,
    replicas: options.replicas,
  });
}

/** What `foldStreamTailWith` takes (`foldStreamTail`: all but `decode` and `typeOf`). */
interface FoldTailOptions<T> {
  readonly stream: string;
  readonly afterSeq: number;
  /**
   * A sequence an append's answer showed the stream holds (`TailMoved.lastSeqAtLeast`): the fold
   * reads at least that far even when stream info comes from a stale replica (decision 0122).
   */
  readonly atLeastSeq?: number;
  readonly decode: (message: RawStreamMessage) => T;
  readonly typeOf: (decoded: T) => string;
  readonly knows: (type: string) => boolean;
  readonly fold: (decoded: T, message: RawStreamMessage) => void;
}

/**
 * `foldStreamTail` with the writer's own decoder: ledger-api decodes its LEDGER stream with a
 * trusted fast decoder (decision 0034) instead of the full schema decode. Every stored message
 * after `afterSeq`, in order and without gaps, is decoded, its type checked (`typeOf`, `knows`) and
 * folded. Answers the last sequence folded (`afterSeq` when there was nothing).
 */
export async function foldStreamTailWith<T>(
  js: JetStreamClient,
  options: FoldTailOptions<T>,
): Promise<number> {
  let last = options.afterSeq;
  // readStreamRaw yields fromSeq, fromSeq + 1, … or throws (SequenceGapError): no check of its own.
  const read = {
    stream: options.stream,
    fromSeq: options.afterSeq + 1,
    ...(options.atLeastSeq === undefined ? {} : { atLeastSeq: options.atLeastSeq }),
  };
  for await (const message of readStreamRaw(js, read)) {
    const decoded = options.decode(message);
    const type = options.typeOf(decoded);
    if (!options.knows(type)) {
      throw new Error(`invariant: ${options.stream} holds a ${type} at sequence ${message.seq}`);
    }
    options.fold(decoded, message);
    last = message.seq;
  }
  return last;
}

/**
 * Folds every stored event after `afterSeq`, in order (readStreamRaw refuses gaps), into the writer's
 * state. An event type the writer does not know is a broken invariant: the stream holds something
 * no writer of it appends. Answers the last sequence folded (`afterSeq` when there was nothing).
 */
export function foldStreamTail(
  js: JetStreamClient,
  options: Omit<FoldTailOptions<StreamEvent>, 'decode' | 'typeOf'>,
): Promise<number> {
  return foldStreamTailWith(js, {
    ...options,
    decode: decodeStreamMessage,
    typeOf: (stored) => stored.event.type,
  });
}

/**
 * Whether an append failed because the stream moved under the writer (another instance appended:
 * `AppendConflictError`, `BatchCutShortError`) or because its outcome is unknown (a timeout after
 * sending: it may be stored). Either way the writer reads the tail and decides again; the message
 * ids make a repeat a no-op.
 */
export function isLostRaceOrUnknownOutcome(error: unknown): boolean {
  return (
    error instanceof AppendConflictError ||
    error instanceof BatchCutShortError ||
    error instanceof AppendOutcomeUnknownError ||
    error instanceof BatchOutcomeUnknownError
  );
}

/** What `appendAtTail` tells `catchUp` of a batch that was not stored as sent. */
export interface TailMoved {
  /**
   * The batch's leading messages the stream certainly holds (in order, from index 0), each with
   * its sequence; `duplicate` when a copy stored before (an earlier attempt, or another instance
   * sent the same command) took its place. Whatever follows them is unknown or not stored.
   */
  readonly stored: readonly StoredMessage[];
  /**
   * The lost race (`BatchCutShortError`) or unknown outcome (`BatchOutcomeUnknownError`) that
   * stopped the batch; undefined when it was stored whole but with duplicates. A writer that runs
   * out of tries reports an unknown outcome as such (NATS unavailable), not as a busy partition.
   */
  readonly cause?: unknown;
  /**
   * A sequence the stream certainly holds, from the answers of the stream's leader: the last of
   * the stored prefix, or the last sequence a lost race's conflict reported (0 if neither). A
   * catch-up reads at least this far (`atLeastSeq`), so that a stale stream info (a replica that
   * just restarted) cannot end it short and make the writer decide on a short state again and
   * lose race after race (decision 0122).
   */
  readonly lastSeqAtLeast: number;
}

/** What the leader's answers to a batch show the stream holds at least (see `TailMoved`). */
function lastSeqShown(stored: readonly StoredMessage[], cause: unknown): number {
  let last = 0;
  for (const s of stored) last = Math.max(last, s.seq);
  const conflict = cause instanceof BatchCutShortError ? cause.cause : undefined;
  if (conflict instanceof AppendConflictError && conflict.actualLastSeq !== undefined) {
    last = Math.max(last, conflict.actualLastSeq);
  }
  return last;
}

/**
 * Appends `messages` expecting the stream to end at `expectedLastSeq` (the writer's state). Stored
 * without duplicates: the result, for the writer to fold its events. A lost race, an unknown
 * outcome, or duplicates (an earlier attempt or another instance stored some of these within the
 * duplicate window: the stream holds their copies, not these bytes): `catchUp` runs, told which
 * leading messages the stream certainly holds, and the answer is `retry`. Anything else is thrown.
 * `connection` and `inFlightMax` are appendBatch's (decision 0035's direct publishes, the window).
 */
export async function appendAtTail(
  js: JetStreamClient,
  options: {
    readonly stream: string;
    readonly messages: readonly OutgoingMessage[];
    readonly expectedLastSeq: number;
    readonly catchUp: (moved: TailMoved) => Promise<void>;
    readonly connection?: NatsConnection;
    readonly inFlightMax?: number;
  },
): Promise<AppendBatchResult | 'retry'> {
  let stored: readonly StoredMessage[];
  let cause: unknown;
  try {
    const result = await appendBatch(js, {
      stream: options.stream,
      messages: options.messages,
      expectedLastSeq: options.expectedLastSeq,
      ...(options.connection === undefined ? {} : { connection: options.connection }),
      ...(options.inFlightMax === undefined ? {} : { inFlightMax: options.inFlightMax }),
    });
    if (!result.stored.some((s) => s.duplicate)) return result;
    stored = result.stored;
  } catch (error) {
    if (!isLostRaceOrUnknownOutcome(error)) throw error;
    stored =
      error instanceof BatchCutShortError || error instanceof BatchOutcomeUnknownError ? error.stored : [];
    cause = error;
  }
  const lastSeqAtLeast = lastSeqShown(stored, cause);
  await options.catchUp(cause === undefined ? { stored, lastSeqAtLeast } : { stored, cause, lastSeqAtLeast });
  return 'retry';
}
