import {
  type CopyingDb,
  createCopyingDb,
  createDb,
  type Database,
  migrateToLatest,
  schemaExists,
  setActiveSchema,
} from '@fundtrace/db';
import { type Logger, projectionBatchMessagesMax, silentLogger } from '@fundtrace/eventlog';
import { parseStreamName } from '@fundtrace/events';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Kysely, sql } from 'kysely';
import { analyzeStaleTables } from './analyze';
import { startProjector } from './runner';

/** How often a rebuild compares its checkpoints with the streams' tails. */
const catchUpPollMs = 200;

/**
 * Secondary indexes the projection itself reads while it applies batches (payment pieces and
 * tranche parents for settlements, returns and reversals). A rebuild keeps them; see
 * {@link deferIndexes}.
 */
const readWhileProjecting: readonly string[] = ['tranche_flows_child_up'];
/**
 * Keys every rebuild adds after its load: `event_refs` is append-only, never read by the
 * projection, never the target of an upsert, and ordered by a random referenced id, so every event
 * writes a random page of it (435 MB at 1,000,000 events against 128 MB of shared buffers).
 */
const keysBuiltAfterLoad: readonly string[] = ['event_refs_pkey'];
/**
 * Keys the bulk path also adds after its load. The keys of `events`, `entries` and
 * `tranche_flows` are (stream or partition, seq, …): the runner already guarantees what they
 * would, each sequence applied once and in order, and no statement names them (plain appends,
 * COPY in a rebuild); built once at the end they cost a sort instead of an index entry and its WAL
 * per row (decision 0065).
 */
const keysBuiltAfterBulkLoad: readonly string[] = ['entries_pkey', 'events_pkey', 'tranche_flows_pkey'];
/**
 * Unique indexes the bulk path builds after its load: `events.event_id` is unique by the writers
 * (uuid v7) and no statement names it; a log that broke it fails the rebuild when it is built.
 */
const uniqueBuiltAfterBulkLoad: readonly string[] = ['events_event_id'];

/**
 * Drops the indexes of a fresh schema that only readers use (non-unique ones, except
 * {@link readWhileProjecting}, plus {@link keysBuiltAfterLoad}, and on the bulk path
 * {@link keysBuiltAfterBulkLoad} and {@link uniqueBuiltAfterBulkLoad}) and returns the statements
 * that build them again. A rebuild loads the whole log and then builds each index once, sorted,
 * instead of maintaining it row by row at random pages (decision 0054). Unique indexes and keys
 * an upsert or `on conflict` names stay: they decide what a batch writes.
 */
async function deferIndexes(admin: Kysely<unknown>, schema: string, bulk: boolean): Promise<string[]> {
  const keysDeferred = bulk ? [...keysBuiltAfterLoad, ...keysBuiltAfterBulkLoad] : keysBuiltAfterLoad;
  const uniqueDeferred = bulk ? uniqueBuiltAfterBulkLoad : [];
  const { rows: indexes } = await sql<{ name: string; definition: string }>`
    select c.relname as name, pg_get_indexdef(c.oid) as definition
    from pg_index x
    join pg_class c on c.oid = x.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and not x.indisprimary
      and (not x.indisunique or c.relname = any(${uniqueDeferred}::text[]))
      and c.relname <> all(${readWhileProjecting}::text[])
    order by c.relname`.execute(admin);
  const { rows: keys } = await sql<{ name: string; table: string; definition: string }>`
    select k.conname as name, t.relname as table, pg_get_constraintdef(k.oid) as definition
    from pg_constraint k
    join pg_class t on t.oid = k.conrelid
    join pg_namespace n on n.oid = k.connamespace
    where n.nspname = ${schema} and k.conname = any(${keysDeferred}::text[])
    order by k.conname`.execute(admin);
  for (const index of indexes) await sql`drop index ${sql.id(schema, index.name)}`.execute(admin);
  for (const key of keys) {
    await sql`alter table ${sql.id(schema, key.table)} drop constraint ${sql.id(key.name)}`.execute(admin);
  }
  return [
    ...keys.map(
      (key) =>
        sql`alter table ${sql.id(schema, key.table)} add constraint ${sql.id(key.name)} ${sql.raw(key.definition)}`,
    ),
    ...indexes.map((index) => sql.raw(index.definition)),
  ].map((statement) => statement.compile(admin).sql);
}

/**
 * Events per batch of a rebuild: the largest a projection may fetch. A rebuild has nobody waiting
 * for a batch's rows, so it takes the fewest transactions (and commits, pulls, ack rounds).
 */
export const rebuildBatchSize = projectionBatchMessagesMax;

/**
 * The rebuild's connections commit without waiting for the WAL flush (`synchronous_commit = off`,
 * a session setting, not the server's). A rebuild is all or nothing: its schema is switched to
 * only after it returned, and a server crash that lost commits already acked leaves checkpoints
 * behind their durables, which the runner reports as a gap and the rebuild fails; it is then run
 * again into a fresh schema. What it committed is flushed before it returns: the index builds
 * and ANALYZE commit synchronously on the admin connection, and the WAL is flushed in order.
 */
function rebuildDb(url: string, schema: string): CopyingDb<Database> {
  return createCopyingDb<Database>(url, {
    schema,
    applicationName: 'fundtrace-replay',
    sessionSettings: 'set synchronous_commit = off',
  });
}

export interface RebuildOptions {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly ns: string;
  /** The fresh schema to build; refused if it exists (a rebuild never writes over books). */
  readonly schema: string;
  readonly batchSize?: number;
  /**
   * The bulk path of decision 0065 (default): the big append tables loaded with COPY, and their
   * keys built after the load. `false` writes as the live projector does, with only decision
   * 0054's indexes deferred: what the bulk path is compared with, in tests and benchmarks.
   */
  readonly bulk?: boolean;
  readonly logger?: Logger;
  /** Progress after each committed batch: events applied so far. */
  readonly onProgress?: (applied: number) => void;
}

export interface RebuildResult {
  readonly schema: string;
  readonly streams: readonly { readonly stream: string; readonly lastSeq: number }[];
  readonly applied: number;
  readonly elapsedMs: number;
  /** Of `elapsedMs`, the part after the load: deferred indexes and keys built, tables analyzed. */
  readonly finishMs: number;
}

/**
 * Rebuilds every read model from sequence 1 into a new schema while the live one keeps serving:
 * the same projection code and the same exactly-once runner, under the new schema's own durable
 * consumers. Returns once every stream is applied up to its tail as of the end of the run; the
 * durables stay, so the live projector continues from there after `switchSchema`.
 */
export async function rebuildBooks(options: RebuildOptions): Promise<RebuildResult> {
  const started = Date.now();
  const admin = createDb<unknown>(options.url, { max: 1, applicationName: 'fundtrace-replay' });
  let bulk: CopyingDb<Database> | undefined;
  try {
    if (await schemaExists(admin, options.schema)) {
      throw new Error(`schema ${options.schema} exists; a rebuild goes into a fresh schema`);
    }
    await migrateToLatest(admin, { schema: options.schema });
    const bulkPath = options.bulk ?? true;
    const buildAfterLoad = await deferIndexes(admin, options.schema, bulkPath);
    bulk = rebuildDb(options.url, options.schema);
    let applied = 0;
    const projector = startProjector({
      nc: options.nc,
      db: bulk.db,
      ...(bulkPath ? { copy: bulk.copy } : {}),
      schema: options.schema,
      ns: options.ns,
      batchSize: options.batchSize ?? rebuildBatchSize,
      logger: options.logger ?? silentLogger(),
      onBatch: (_stream, count) => {
        applied += count;
        options.onProgress?.(applied);
      },
    });
    let failure: unknown;
    projector.done.catch((error: unknown) => {
      failure = error;
    });
    try {
      await projector.discover();
      const jsm = await jetstreamManager(options.nc);
      for (;;) {
        if (failure !== undefined) throw failure;
        const names: string[] = [];
        for await (const name of jsm.streams.names()) {
          if (parseStreamName(name)?.namespace === options.ns) names.push(name);
        }
        const lags = await projector.lag();
        const known = new Set(projector.streams());
        if (names.every((name) => known.has(name)) && lags.every((lag) => lag.lag <= 0)) {
          // Before the schema can be switched to, and before the durables go on projecting into it.
          await projector.stop();
          const finishing = Date.now();
          for (const statement of buildAfterLoad) await sql.raw(statement).execute(admin);
          await analyzeStaleTables(admin, options.schema);
          return {
            schema: options.schema,
            streams: lags
              .map((lag) => ({ stream: lag.stream, lastSeq: lag.checkpoint }))
              .sort((a, b) => a.stream.localeCompare(b.stream)),
            applied,
            elapsedMs: Date.now() - started,
            finishMs: Date.now() - finishing,
          };
        }
        if (!names.every((name) => known.has(name))) await projector.discover();
        await new Promise((resolve) => setTimeout(resolve, catchUpPollMs));
      }
    } finally {
      await projector.stop();
    }
  } finally {
    await bulk?.db.destroy();
    await admin.destroy();
  }
}

/** Points readers (and the running projector) at `schema`; returns the schema that was active. */
export async function switchSchema(url: string, schema: string): Promise<string | null> {
  const admin = createDb<unknown>(url, { max: 1, applicationName: 'fundtrace-replay' });
  try {
    return await setActiveSchema(admin, schema);
  } finally {
    await admin.destroy();
  }
}
