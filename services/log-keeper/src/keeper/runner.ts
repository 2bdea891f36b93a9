import {
  type Logger,
  type ProjectionLag,
  type ProjectionRunner,
  runProjection,
  silentLogger,
} from '@fundtrace/eventlog';
import { parseStreamName, streamName } from '@fundtrace/events';
import { hashLeaf } from '@fundtrace/merkle';
import { appendToTree, type Queryable } from '@fundtrace/merkle/pg';
import { jetstreamManager } from '@nats-io/jetstream';
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

/** How often to look for new partitions' streams: a new county is rare and not read within seconds. */
export const discoveryIntervalMs = 5_000;

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
 * One durable pull consumer per LEDGER_, REGISTRY_ and AUDIT_ stream of the
 * namespace, each appending the hashes of the stored bytes (the canonical event
 * encoding) to that stream's tree, with the consumer checkpoint in the same
 * transaction. A fatal error on one stream stops them all: a log whose tree
 * cannot be trusted must not keep signing anything.
 */
export function startKeeper(options: KeeperOptions): Keeper {
  const logger = options.logger ?? silentLogger();
  const runners = new Map<string, ProjectionRunner>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let fail: (error: unknown) => void = () => undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    resolveDone = resolve;
  });
  done.catch(() => undefined);

  async function discover(): Promise<void> {
    if (stopped) return;
    const jsm = await jetstreamManager(options.nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    for (const name of names.sort()) {
      const ref = parseStreamName(name);
      if (ref === null || ref.namespace !== options.ns || stopped) continue;
      const logical = streamName(ref.context, ref.partition);
      if (runners.has(logical)) continue;
      const runner = runProjection({
        nc: options.nc,
        db: options.db,
        stream: name,
        durable: keeperDurable,
        batchSize: options.batchSize ?? keeperBatchSize,
        logger,
        handler: (trx, events) => appendBatch(trx, name, events),
        afterCommit: (batch) => options.onBatch?.(logical, batch.applied, batch.lastSeq),
      });
      runners.set(logical, runner);
      logger.info({ stream: name }, 'keeping the merkle log of stream');
      runner.done.catch(async (error: unknown) => {
        if (stopped) return;
        logger.fatal(
          { stream: name, err: error instanceof Error ? error.message : String(error) },
          'merkle log failed',
        );
        await stopAll();
        fail(error);
      });
    }
  }

  async function stopAll(): Promise<void> {
    stopped = true;
    if (timer !== undefined) clearInterval(timer);
    await Promise.all([...runners.values()].map((runner) => runner.stop()));
  }

  const first = discover().catch((error: unknown) => {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'stream discovery failed');
  });
  timer = setInterval(() => {
    discover().catch((error: unknown) => {
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'stream discovery failed; retrying',
      );
    });
  }, discoveryIntervalMs);

  return {
    done,
    streams: () => [...runners.keys()].sort(),
    lag: () => Promise.all([...runners.values()].map((runner) => runner.lag())),
    discover: async () => {
      await first;
      await discover();
    },
    async stop() {
      await stopAll();
      resolveDone();
    },
  };
}
