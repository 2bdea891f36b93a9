import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Kysely, Transaction } from 'kysely';
import { deferred } from './deferred';
import { describe } from './errors';
import { type Logger, silentLogger } from './log';
import {
  type CommittedBatch,
  type PrepareOptions,
  type ProjectionLag,
  type ProjectionRunner,
  type ProjectionStatus,
  type QuarantineOptions,
  runProjection,
} from './projection';
import type { RawStreamMessage, StreamEvent } from './read';

/**
 * How often a set of projections lists JetStream streams to pick up a new partition. A new
 * county's books start with an account being opened, which nobody reads within seconds; listing
 * streams is one cheap request.
 */
export const streamDiscoveryIntervalMs = 5_000;

export interface StreamProjectionsOptions<
  DB,
  M extends RawStreamMessage = StreamEvent,
  Q = unknown,
  P = never,
> {
  readonly nc: NatsConnection;
  readonly db: Kysely<DB>;
  /**
   * Which streams to project: the key to know a stream by (in `streams()` and `afterCommit`), or
   * null to leave it alone. Called with every stream name on each discovery.
   */
  readonly select: (stream: string) => string | null;
  /** Durable consumer name on every stream, and the checkpoints' `consumer` key. */
  readonly durable: string;
  readonly batchSize: number;
  readonly maxWaitMs?: number;
  readonly ackWaitMs?: number;
  readonly decode?: (message: RawStreamMessage) => M;
  readonly quarantine?: QuarantineOptions<DB, Q>;
  /** Applies one stream's batch (see `runProjection`); `stream` is the JetStream name. */
  readonly handler: (trx: Transaction<DB>, events: readonly M[], stream: string) => Promise<void>;
  /** Every stream's runner prepares its next batch while one commits (see `runProjection`). */
  readonly prepare?: PrepareOptions<DB, M, P>;
  readonly afterCommit?: (key: string, batch: CommittedBatch) => void;
  /** What the set does, for its log lines ("projecting stream", "keeping the merkle log of stream"). */
  readonly doing: string;
  readonly logger?: Logger;
}

export interface StreamProjections {
  /** Rejects with the first fatal error of any stream's runner, after stopping them all. */
  readonly done: Promise<void>;
  /** Keys of the streams being projected, sorted. */
  streams(): string[];
  lag(): Promise<ProjectionLag[]>;
  /** Each stream's runner state (e.g. `blocked` on a poison event, with the error). */
  statuses(): { readonly stream: string; readonly status: ProjectionStatus }[];
  /** Lists streams now and starts runners for new ones (also done on a timer). */
  discover(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One `runProjection` per selected stream, found by listing JetStream streams now and every
 * {@link streamDiscoveryIntervalMs}. A fatal error on one stream stops them all: a read model
 * (or a Merkle log) that is wrong in one place must not keep growing elsewhere as if nothing
 * happened. The projector and the log-keeper are both this, with their own handler.
 */
export function runStreamProjections<DB, M extends RawStreamMessage = StreamEvent, Q = unknown, P = never>(
  options: StreamProjectionsOptions<DB, M, Q, P>,
): StreamProjections {
  const logger = options.logger ?? silentLogger();
  const runners = new Map<string, { stream: string; runner: ProjectionRunner }>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const finished = deferred();
  const done = finished.promise;

  async function discover(): Promise<void> {
    if (stopped) return;
    const jsm = await jetstreamManager(options.nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    for (const name of names.sort()) {
      const key = options.select(name);
      if (key === null || runners.has(key) || stopped) continue;
      const runner = runProjection<DB, M, Q, P>({
        nc: options.nc,
        db: options.db,
        stream: name,
        durable: options.durable,
        batchSize: options.batchSize,
        logger,
        ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
        ...(options.ackWaitMs === undefined ? {} : { ackWaitMs: options.ackWaitMs }),
        ...(options.decode === undefined ? {} : { decode: options.decode }),
        ...(options.quarantine === undefined ? {} : { quarantine: options.quarantine }),
        ...(options.prepare === undefined ? {} : { prepare: options.prepare }),
        handler: (trx, events) => options.handler(trx, events, name),
        afterCommit: (batch) => options.afterCommit?.(key, batch),
      });
      runners.set(key, { stream: name, runner });
      logger.info({ stream: name, durable: options.durable }, options.doing);
      runner.done.catch(async (error: unknown) => {
        if (stopped) return;
        logger.fatal({ stream: name, err: describe(error) }, `${options.doing} failed`);
        await stopAll();
        finished.reject(error);
      });
    }
  }

  async function stopAll(): Promise<void> {
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    await Promise.all([...runners.values()].map(({ runner }) => runner.stop()));
  }

  const first = discover().catch((error: unknown) => {
    logger.error({ err: describe(error) }, 'stream discovery failed');
  });
  timer = setInterval(() => {
    discover().catch((error: unknown) => {
      logger.warn({ err: describe(error) }, 'stream discovery failed; retrying');
    });
  }, streamDiscoveryIntervalMs);

  return {
    done,
    streams: () => [...runners.keys()].sort(),
    lag: () => Promise.all([...runners.values()].map(({ runner }) => runner.lag())),
    statuses: () =>
      [...runners.values()]
        .map(({ stream, runner }) => ({ stream, status: runner.status() }))
        .sort((a, b) => a.stream.localeCompare(b.stream)),
    discover: async () => {
      await first;
      await discover();
    },
    async stop() {
      await stopAll();
      finished.resolve();
    },
  };
}
