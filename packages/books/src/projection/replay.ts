import { createDb, type Database, migrateToLatest, schemaExists, setActiveSchema } from '@fundtrace/db';
import { type Logger, silentLogger } from '@fundtrace/eventlog';
import { parseStreamName } from '@fundtrace/events';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Kysely } from 'kysely';
import { projectorBatchSize, startProjector } from './runner';

/** How often a rebuild compares its checkpoints with the streams' tails. */
const catchUpPollMs = 200;

export interface RebuildOptions {
  readonly url: string;
  readonly nc: NatsConnection;
  readonly ns: string;
  /** The fresh schema to build; refused if it exists (a rebuild never writes over books). */
  readonly schema: string;
  readonly batchSize?: number;
  readonly logger?: Logger;
  /** Progress after each committed batch: events applied so far. */
  readonly onProgress?: (applied: number) => void;
}

export interface RebuildResult {
  readonly schema: string;
  readonly streams: readonly { readonly stream: string; readonly lastSeq: number }[];
  readonly applied: number;
  readonly elapsedMs: number;
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
  let db: Kysely<Database> | undefined;
  try {
    if (await schemaExists(admin, options.schema)) {
      throw new Error(`schema ${options.schema} exists; a rebuild goes into a fresh schema`);
    }
    await migrateToLatest(admin, { schema: options.schema });
    db = createDb<Database>(options.url, { schema: options.schema, applicationName: 'fundtrace-replay' });
    let applied = 0;
    const projector = startProjector({
      nc: options.nc,
      db,
      schema: options.schema,
      ns: options.ns,
      batchSize: options.batchSize ?? projectorBatchSize,
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
          return {
            schema: options.schema,
            streams: lags
              .map((lag) => ({ stream: lag.stream, lastSeq: lag.checkpoint }))
              .sort((a, b) => a.stream.localeCompare(b.stream)),
            applied,
            elapsedMs: Date.now() - started,
          };
        }
        if (!names.every((name) => known.has(name))) await projector.discover();
        await new Promise((resolve) => setTimeout(resolve, catchUpPollMs));
      }
    } finally {
      await projector.stop();
    }
  } finally {
    await db?.destroy();
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
