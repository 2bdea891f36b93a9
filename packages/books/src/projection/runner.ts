import type { CopyRows, Database } from '@fundtrace/db';
import {
  decodeStreamMessageWithData,
  type Logger,
  runStreamProjections,
  type StreamEventWithData,
  type StreamProjections,
  silentLogger,
  streamDiscoveryIntervalMs,
} from '@fundtrace/eventlog';
import { parseStreamName } from '@fundtrace/events';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Kysely } from 'kysely';
import { analyzeCheckEvents, analyzeStaleTables } from './analyze';
import { discardPrepared, type PreparedBatch, prepareBatch, projectBatch, writePrepared } from './project';
import { findQuarantine, type QuarantineFound, quarantineRecheckMs, recordQuarantined } from './quarantine';
import { ProjectionStates } from './state';

/** How often the projector lists JetStream streams to pick up a new partition (eventlog's). */
export const discoveryIntervalMs = streamDiscoveryIntervalMs;

/**
 * Events per batch (one PostgreSQL transaction). The batch statements grow with it and the
 * commit, the ack round and the pull are shared by more events (decision 0130: 2,000 against 500
 * was +20–30 % at 300,000 events once the process had CPU to spare), and a transaction of 2,000
 * events takes about a quarter of a second. A batch is a maximum: a projector that has caught up
 * applies what has arrived, so it does not delay what the public sees.
 */
export const projectorBatchSize = 2_000;

/** The durable consumer (and checkpoint key) of the projector writing into `schema`. */
export function durableFor(schema: string): string {
  return `projector-${schema}`;
}

export interface ProjectorOptions {
  readonly nc: NatsConnection;
  /** kysely over the read-model schema (search_path) to project into. */
  readonly db: Kysely<Database>;
  readonly schema: string;
  /** Stream namespace ('' in production). */
  readonly ns: string;
  readonly logger?: Logger;
  readonly batchSize?: number;
  /** Redelivery delay of a batch a dead projector held (eventlog default 30 s). */
  readonly ackWaitMs?: number;
  /** How long an idle pull waits for new events (eventlog default 2 s); bounds `stop()`. */
  readonly maxWaitMs?: number;
  /** How often a projector held up by a poison event looks for a quarantine. */
  readonly quarantineRecheckMs?: number;
  /** Rows kept in memory across batches (default `projectionStateRowsMax`); 0 keeps none. */
  readonly stateRowsMax?: number;
  /**
   * The append tables that take most rows are written with COPY on the batch's own connection
   * (see createCopyingDb): a rebuild (0065) and the projector service (0136) do; without it they
   * are inserted.
   */
  readonly copy?: CopyRows;
  /** Called once per committed batch (metrics). */
  readonly onBatch?: (stream: string, applied: number, lastSeq: number) => void;
}

/**
 * A running projector: `done` rejects with the first fatal error of any stream (an invariant, a
 * gap); `statuses()` shows a stream `blocked` by a poison event, with the error naming it.
 */
export type Projector = StreamProjections;

/**
 * One durable pull consumer per LEDGER_, REGISTRY_ and AUDIT_ stream of the namespace
 * (eventlog's `runStreamProjections`), each applying batches through `projectBatch` with its
 * checkpoint in the same transaction. A fatal error in one stream stops them all.
 *
 * A poison event (one that does not decode) holds its stream up, with an error naming stream,
 * sequence and claimed type, until an operator quarantines exactly that message
 * (`fundtrace quarantine`, an EventQuarantined on the partition's AUDIT stream); the projector
 * then records it in `quarantined_events`, raw bytes kept, and goes on. The other streams keep
 * going meanwhile: what they apply does not depend on an event nobody can read.
 */
export function startProjector(options: ProjectorOptions): Projector {
  const logger = options.logger ?? silentLogger();
  // What each stream's batches read, kept for the next batch (decision 0056).
  const states = new ProjectionStates(options.stateRowsMax, options.copy);
  // Statistics as the books grow (see analyzeStaleTables): one look per analyzeCheckEvents
  // events applied, outside the batches' transactions, never two at once.
  let sinceCheck = 0;
  let analyzing: Promise<void> | undefined;
  const lookAtStatistics = (applied: number) => {
    sinceCheck += applied;
    if (sinceCheck < analyzeCheckEvents || analyzing !== undefined) return;
    sinceCheck = 0;
    analyzing = analyzeStaleTables(options.db, options.schema)
      .then(
        (tables) => {
          if (tables.length > 0) logger.debug({ tables }, 'analyzed tables whose statistics were stale');
        },
        (error: unknown) => {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'analyze failed');
        },
      )
      .finally(() => {
        analyzing = undefined;
      });
  };
  const projections = runStreamProjections<Database, StreamEventWithData, QuarantineFound, PreparedBatch>({
    nc: options.nc,
    db: options.db,
    select: (name) => (parseStreamName(name)?.namespace === options.ns ? name : null),
    durable: durableFor(options.schema),
    batchSize: options.batchSize ?? projectorBatchSize,
    // One parse of each event's bytes: the stored payload for `events.data` comes with the event.
    decode: decodeStreamMessageWithData,
    ...(options.ackWaitMs === undefined ? {} : { ackWaitMs: options.ackWaitMs }),
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
    quarantine: {
      find: (message) =>
        findQuarantine(options.nc, options.ns, message, (detail) =>
          logger.warn({ stream: message.stream, seq: message.seq }, detail),
        ),
      record: (trx, message, error, found: QuarantineFound) => recordQuarantined(trx, message, error, found),
      recheckMs: options.quarantineRecheckMs ?? quarantineRecheckMs,
    },
    // The next batch of a stream is applied in memory while the current one is written and
    // committed (decision 0136); its rows are read, where needed, on a connection of the pool.
    prepare: {
      run: (events) => prepareBatch(options.db, events, states),
      write: async (trx, prepared, sent) => {
        await writePrepared(trx, prepared, states, sent);
      },
      discard: (prepared) => discardPrepared(prepared, states),
    },
    handler: async (trx, events) => {
      await projectBatch(trx, events, states);
    },
    afterCommit: (stream, batch) => {
      options.onBatch?.(stream, batch.applied, batch.lastSeq);
      lookAtStatistics(batch.applied);
    },
    doing: 'projecting stream',
    logger,
  });
  return {
    ...projections,
    async stop() {
      await projections.stop();
      await analyzing;
    },
  };
}
