import { type Projector, startProjector } from '@fundtrace/books';
import type { Database } from '@fundtrace/db';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  type EventFixture,
  type TestDatabase,
  testNamespace,
} from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Kysely, sql } from 'kysely';
import { projectorEventLog } from './event-log';

/** How long a test waits for the projector to catch up before failing (not a timing assertion). */
export const catchUpTimeoutMs = 600_000;
const pollMs = 50;

export interface Rig {
  readonly nc: NatsConnection;
  readonly ns: string;
  readonly database: TestDatabase;
  readonly db: Kysely<Database>;
  readonly log: EventFixture;
  close(): Promise<void>;
}

export async function openRig(): Promise<Rig> {
  const nc = await connectTestNats('projector-test');
  const ns = testNamespace();
  const database = await createTestDatabase();
  return {
    nc,
    ns,
    database,
    db: database.db,
    log: projectorEventLog(nc, ns),
    async close() {
      await deleteNamespaceStreams(await jetstreamManager(nc), ns).catch(() => undefined);
      await nc.close();
      await database.drop();
    },
  };
}

/** Starts a projector on the rig's schema and waits until every stream in `tails` is applied. */
export async function projectUntil(
  rig: Rig,
  tails: ReadonlyMap<string, number>,
  options: { db?: Kysely<Database>; schema?: string; projector?: Projector } = {},
): Promise<Projector> {
  const projector =
    options.projector ??
    startProjector({
      nc: rig.nc,
      db: options.db ?? rig.db,
      schema: options.schema ?? 'public',
      ns: rig.ns,
      batchSize: 100,
    });
  await projector.discover();
  await waitFor(projector, options.db ?? rig.db, options.schema ?? 'public', tails);
  return projector;
}

export async function waitFor(
  projector: Projector,
  db: Kysely<Database>,
  schema: string,
  tails: ReadonlyMap<string, number>,
): Promise<void> {
  const deadline = Date.now() + catchUpTimeoutMs;
  let failure: unknown;
  projector.done.catch((error: unknown) => {
    failure = error;
  });
  for (;;) {
    if (failure !== undefined) throw failure;
    const { rows } = await sql<{ stream: string; last_seq: bigint }>`
      select stream, last_seq from projection_checkpoints where consumer = ${`projector-${schema}`}`.execute(
      db,
    );
    const at = new Map(rows.map((row) => [row.stream, Number(row.last_seq)]));
    if ([...tails].every(([stream, seq]) => (at.get(stream) ?? 0) >= seq)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `projector did not catch up within ${catchUpTimeoutMs} ms: ${JSON.stringify([...at])} of ${JSON.stringify([...tails])}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Waits for the projector to stop with an error, and returns it. */
export async function failureOf(projector: Projector): Promise<Error> {
  await projector.discover();
  const error = await projector.done.then(
    () => new Error('projector stopped without an error'),
    (e: unknown) => e as Error,
  );
  return error;
}
