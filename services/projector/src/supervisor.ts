import { durableFor, type Projector, startProjector } from '@fundtrace/books';
import {
  type CopyingDb,
  createCopyingDb,
  createDb,
  type Database,
  getActiveSchema,
  migrateToLatest,
  setActiveSchema,
} from '@fundtrace/db';
import { deferred, type Logger, type ProjectionLag } from '@fundtrace/eventlog';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

/**
 * How often the projector looks at the active-schema pointer. After `fundtrace replay` switches
 * it, the old schema keeps serving until this notices, so a few seconds of staleness are the cost
 * of not holding a LISTEN connection open.
 */
export const schemaPollMs = 2_000;

export interface SupervisorOptions {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly ns: string;
  /** Schema to create and activate when none is active. */
  readonly initialSchema: string;
  readonly batchSize: number;
  readonly ackWaitMs?: number;
  readonly maxWaitMs?: number;
  readonly logger: Logger;
  readonly onBatch?: (stream: string, applied: number, lastSeq: number) => void;
}

export interface Supervisor {
  /** Rejects when projection fails for good (an invariant, a gap, a poison event). */
  readonly done: Promise<void>;
  schema(): string;
  lag(): Promise<ProjectionLag[]>;
  /** Streams held up by a poison event, each with the error naming it (waiting for an operator). */
  blocked(): { readonly stream: string; readonly error: string }[];
  failed(): unknown;
  stop(): Promise<void>;
}

/**
 * Keeps one projector writing into the active read-model schema. When the pointer moves (a
 * replay built and caught up a new schema), it stops the old projector, deletes the old durable
 * consumers and continues in the new schema from the new schema's own checkpoints.
 */
export async function superviseProjector(options: SupervisorOptions): Promise<Supervisor> {
  const admin = createDb<unknown>(options.url, { max: 1, applicationName: 'projector-admin' });
  let active = await getActiveSchema(admin);
  if (active === null) {
    await migrateToLatest(admin, { schema: options.initialSchema });
    await setActiveSchema(admin, options.initialSchema);
    active = options.initialSchema;
  } else {
    await migrateToLatest(admin, { schema: active });
  }
  let schema = active;
  // The big append tables go in with COPY, as a rebuild's do (decisions 0065, 0136).
  const open = (into: string): CopyingDb<Database> =>
    createCopyingDb<Database>(options.url, { schema: into, applicationName: 'projector' });
  let db = open(schema);
  let projector: Projector = start();
  let failure: unknown;
  let stopped = false;
  const finished = deferred();
  const done = finished.promise;

  function start(): Projector {
    const next = startProjector({
      nc: options.nc,
      db: db.db,
      copy: db.copy,
      schema,
      ns: options.ns,
      batchSize: options.batchSize,
      ...(options.ackWaitMs === undefined ? {} : { ackWaitMs: options.ackWaitMs }),
      ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
      logger: options.logger,
      ...(options.onBatch === undefined ? {} : { onBatch: options.onBatch }),
    });
    next.done.catch((error: unknown) => {
      if (next !== projector || stopped) return;
      failure = error;
      finished.reject(error);
    });
    return next;
  }

  async function switchTo(next: string): Promise<void> {
    options.logger.info({ from: schema, to: next }, 'active schema moved; following it');
    const old = schema;
    const oldStreams = projector.streams();
    await projector.stop();
    await db.db.destroy();
    schema = next;
    db = open(schema);
    projector = start();
    const jsm = await jetstreamManager(options.nc);
    for (const stream of oldStreams) {
      await jsm.consumers.delete(stream, durableFor(old)).catch(() => false);
    }
  }

  let switching = Promise.resolve();
  const timer = setInterval(() => {
    switching = switching
      .then(async () => {
        if (stopped || failure !== undefined) return;
        const now = await getActiveSchema(admin);
        if (now !== null && now !== schema) await switchTo(now);
      })
      .catch((error: unknown) => {
        options.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'active schema check failed',
        );
      });
  }, schemaPollMs);

  return {
    done,
    schema: () => schema,
    lag: () => projector.lag(),
    blocked: () =>
      projector
        .statuses()
        .filter(({ status }) => status.state === 'blocked')
        .map(({ stream, status }) => ({ stream, error: status.lastError ?? 'poison event' })),
    failed: () => failure,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await switching;
      await projector.stop();
      await db.db.destroy();
      await admin.destroy();
      finished.resolve();
    },
  };
}
