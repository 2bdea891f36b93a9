import type { Context } from '@fundtrace/events';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { type AppendBatchResult, appendBatch, type OutgoingMessage } from './append';
import {
  AppendConflictError,
  AppendOutcomeUnknownError,
  BatchCutShortError,
  BatchOutcomeUnknownError,
} from './errors';
import { readStream, type StreamEvent } from './read';
import { ensurePartitionStreams } from './streams';

/**
 * What the single writers of a partition stream share (registry-api's RegistryWriter, audit-api's
 * AuditWriter; ledger-api's writer has its own, faster path): create or verify the stream, fold
 * what it holds beyond the writer's state, and append at the writer's tail, where a lost race or
 * an unknown outcome means "catch up and decide again" (decision 0003's protocol).
 */

/** Creates or verifies the one stream `context` of `partition` a writer writes (STREAM_REPLICAS). */
export async function openPartitionStream(
  jsm: JetStreamManager,
  options: {
    readonly partition: string;
    readonly context: Context;
    readonly ns: string;
    readonly replicas?: number;
  },
): Promise<void> {
  await ensurePartitionStreams(jsm, {
    partition: options.partition,
    contexts: [options.context],
    ns: options.ns,
    replicas: options.replicas,
  });
}

/**
 * Folds every stored event after `afterSeq`, in order (readStream refuses gaps), into the writer's
 * state. An event type the writer does not know is a broken invariant: the stream holds something
 * no writer of it appends. Answers the last sequence folded (`afterSeq` when there was nothing).
 */
export async function foldStreamTail(
  js: JetStreamClient,
  options: {
    readonly stream: string;
    readonly afterSeq: number;
    readonly knows: (type: string) => boolean;
    readonly fold: (stored: StreamEvent) => void;
  },
): Promise<number> {
  let last = options.afterSeq;
  for await (const stored of readStream(js, { stream: options.stream, fromSeq: options.afterSeq + 1 })) {
    if (!options.knows(stored.event.type)) {
      throw new Error(`invariant: ${options.stream} holds a ${stored.event.type} at sequence ${stored.seq}`);
    }
    options.fold(stored);
    last = stored.seq;
  }
  return last;
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

/**
 * Appends `messages` expecting the stream to end at `expectedLastSeq` (the writer's state). Stored
 * without duplicates: the result, for the writer to fold its events. A lost race, an unknown
 * outcome, or duplicates (an earlier attempt stored some of these within the duplicate window):
 * `catchUp` runs and the answer is `retry`. Anything else is thrown.
 */
export async function appendAtTail(
  js: JetStreamClient,
  options: {
    readonly stream: string;
    readonly messages: readonly OutgoingMessage[];
    readonly expectedLastSeq: number;
    readonly catchUp: () => Promise<void>;
  },
): Promise<AppendBatchResult | 'retry'> {
  try {
    const result = await appendBatch(js, {
      stream: options.stream,
      messages: options.messages,
      expectedLastSeq: options.expectedLastSeq,
    });
    if (!result.stored.some((s) => s.duplicate)) return result;
  } catch (error) {
    if (!isLostRaceOrUnknownOutcome(error)) throw error;
  }
  await options.catchUp();
  return 'retry';
}
