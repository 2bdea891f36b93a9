import {
  type Logger,
  type ProjectionLag,
  type RawStreamMessage,
  runStreamProjections,
  streamDiscoveryIntervalMs,
} from '@fundtrace/eventlog';
import { parseStreamName, streamName } from '@fundtrace/events';
import { hashLeaf } from '@fundtrace/merkle';
import { appendToTree, type Queryable } from '@fundtrace/merkle/pg';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Kysely } from 'kysely';

/** The durable consumer (and projection checkpoint key) of the log-keeper on every stream. */
export const keeperDurable = 'log-keeper';

/**
 * Events per batch: one transaction appends their leaves, nodes and the consumer
 * checkpoint. A batch writes about two nodes per event, so 500 events are about
 * 1,000 rows in one insert, well under a second, and commits are amortised.
 */
export const keeperBatchSize = 500;

/** How often to look for new partitions' streams (eventlog's, shared with the projector). */
export const discoveryIntervalMs = streamDiscoveryIntervalMs;

export interface KeeperOptions {
  readonly nc: NatsConnection;
  // biome-ignore lint/suspicious/noExplicitAny: any Database holding projection_checkpoints and the merkle tables.
  readonly db: Kysely<any>;
  /** Stream namespace ('' in production). Trees are keyed by the JetStream stream name (with it). */
  readonly ns: string;
  readonly logger?: Logger;
  readonly batchSize?: number;
  /** After each committed batch (metrics). */
  readonly onBatch?: (stream: string, applied: number, lastSeq: number) => void;
}

export interface Keeper {
  /** Rejects with the first fatal error of any stream (a gap, a poison event, a broken tree invariant). */
  readonly done: Promise<void>;
  /** Logical stream names (without namespace) being kept. */
  streams(): string[];
  lag(): Promise<ProjectionLag[]>;
  discover(): Promise<void>;
  stop(): Promise<void>;
}

/** Append a batch's leaves: leaf index = stream sequence − 1, in order, without holes. */
export async function appendBatch(
  trx: Queryable,
  stream: string,
  events: readonly { readonly seq: number; readonly bytes: Uint8Array }[],
): Promise<void> {
  const first = events[0];
  if (first === undefined) return;
  events.forEach((event, i) => {
    if (event.seq !== first.seq + i)
      throw new Error(`${stream}: sequence ${event.seq} follows ${first.seq + i - 1}`);
  });
  await appendToTree(
    trx,
    stream,
    first.seq - 1,
    events.map((event) => hashLeaf(event.bytes)),
  );
}

/**
 * One durable pull consumer per LEDGER_, REGISTRY_ and AUDIT_ stream of the namespace
 * (eventlog's `runStreamProjections`), each appending the hashes of the stored bytes (the
 * canonical event encoding) to that stream's tree, with the consumer checkpoint in the same
 * transaction. The bytes are never decoded: a message no reader can decode (a poison event
 * waiting for an operator) is still in the log, and the tree must prove exactly that. A fatal
 * error on one stream stops them all: a log whose tree cannot be trusted must not keep signing.
 */
export function startKeeper(options: KeeperOptions): Keeper {
  return runStreamProjections({
    nc: options.nc,
    db: options.db,
    select: (name) => {
      const ref = parseStreamName(name);
      return ref === null || ref.namespace !== options.ns ? null : streamName(ref.context, ref.partition);
    },
    durable: keeperDurable,
    batchSize: options.batchSize ?? keeperBatchSize,
    decode: (message: RawStreamMessage) => message,
    handler: (trx, events, name) => appendBatch(trx, name, events),
    afterCommit: (logical, batch) => options.onBatch?.(logical, batch.applied, batch.lastSeq),
    doing: 'keeping the merkle log of stream',
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}
