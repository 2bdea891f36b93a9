import type { Database } from '@fundtrace/db';
import {
  type Logger,
  type ProjectionLag,
  type ProjectionRunner,
  runProjection,
  silentLogger,
} from '@fundtrace/eventlog';
import { parseStreamName } from '@fundtrace/events';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Kysely } from 'kysely';
import { projectBatch } from './project';

/**
 * How often the projector lists JetStream streams to pick up a new partition. A new county's
 * books start with an account being opened, which nobody reads within seconds; listing streams
 * is one cheap request.
 */
export const discoveryIntervalMs = 5_000;

/**
 * Events per batch (one PostgreSQL transaction). The batch statements grow with it and the
 * commit cost is shared by more events; 500 is where the measured throughput stops improving
 * on the development machine, and it keeps a transaction well under a second.
 */
export const projectorBatchSize = 500;

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
  /** Called once per committed batch (metrics). */
  readonly onBatch?: (stream: string, applied: number, lastSeq: number) => void;
}

export interface Projector {
  /** Rejects with the first fatal error of any stream's runner (an invariant, a gap, a poison event). */
  readonly done: Promise<void>;
  streams(): string[];
  lag(): Promise<ProjectionLag[]>;
  /** Lists streams now and starts runners for new ones (also done on a timer). */
  discover(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One durable pull consumer per LEDGER_, REGISTRY_ and AUDIT_ stream of the namespace, each
 * applying batches through `projectBatch` with its checkpoint in the same transaction
 * (`runProjection`). A fatal error in one stream stops them all: books that are wrong in one
 * place must not keep growing elsewhere as if nothing happened.
 */
export function startProjector(options: ProjectorOptions): Projector {
  const logger = options.logger ?? silentLogger();
  const runners = new Map<string, ProjectionRunner>();
  const durable = durableFor(options.schema);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let fail: (error: unknown) => void = () => undefined;
  let stopResolve: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    stopResolve = resolve;
  });
  done.catch(() => undefined);

  async function discover(): Promise<void> {
    if (stopped) return;
    const jsm = await jetstreamManager(options.nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    for (const name of names.sort()) {
      const ref = parseStreamName(name);
      if (ref === null || ref.namespace !== options.ns || runners.has(name) || stopped) continue;
      const runner = runProjection<Database>({
        nc: options.nc,
        db: options.db,
        stream: name,
        durable,
        batchSize: options.batchSize ?? projectorBatchSize,
        logger,
        handler: async (trx, events) => {
          await projectBatch(trx, events);
        },
        afterCommit: (batch) => options.onBatch?.(batch.stream, batch.applied, batch.lastSeq),
      });
      runners.set(name, runner);
      logger.info({ stream: name, durable }, 'projecting stream');
      runner.done.catch(async (error: unknown) => {
        if (stopped) return;
        logger.fatal(
          { stream: name, err: error instanceof Error ? error.message : String(error) },
          'projection failed',
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
      stopResolve();
    },
  };
}
