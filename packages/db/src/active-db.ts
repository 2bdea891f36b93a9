import { CompiledQuery, type DatabaseConnection, Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { activeSchemaChannel, getActiveSchema } from './active-schema';
import { connectTimeoutMs, createPool, type PoolOptions } from './connect';
import { assertIdentifier } from './identifiers';
import type { Database } from './schema';

/**
 * How often a reader re-reads the active-schema pointer even without a notification: the
 * safety net for a missed NOTIFY (listener connection lost during the switch).
 */
export const activeSchemaPollMs = 5_000;

/** Wait before re-opening a lost LISTEN connection; the poll covers the gap. */
const listenerRetryMs = 1_000;

export interface ActiveSchemaDbOptions extends Omit<PoolOptions, 'schema'> {
  /**
   * Schema to use while no schema was ever activated (a fresh installation before the
   * projector's first run). Without it, {@link connectActiveSchemaDb} throws in that case.
   */
  fallbackSchema?: string;
  /** Called when readers move to another schema, and when the pointer cannot be read. */
  onSwitch?: (schema: string, previous: string) => void;
  onError?: (error: Error) => void;
  pollMs?: number;
}

export interface ActiveSchemaDb<DB> {
  /** Every query runs in the schema that was active when its connection was reserved. */
  readonly db: Kysely<DB>;
  /** The schema new queries use now. */
  schema(): string;
  /** Re-reads the pointer now (also done on NOTIFY and every `pollMs`). */
  refresh(): Promise<string>;
  /** Stops listening and polling and closes the pool. */
  destroy(): Promise<void>;
}

/**
 * A kysely instance for readers of blue/green read models (audit-api, notice board): it follows
 * `public.fundtrace_active_schema`. Each reserved connection gets `set search_path` to the active
 * schema (only when it changed since that connection's last use), so a query or transaction sees
 * one schema from start to end, and raw SQL is covered as well as the query builder. The pointer
 * is followed by LISTEN on {@link activeSchemaChannel} and by polling.
 */
export async function connectActiveSchemaDb<DB = Database>(
  url: string,
  options: ActiveSchemaDbOptions = {},
): Promise<ActiveSchemaDb<DB>> {
  if (options.fallbackSchema !== undefined) assertIdentifier('schema', options.fallbackSchema);
  const { fallbackSchema, onSwitch, onError, pollMs, ...poolOptions } = options;
  const pool = createPool(url, poolOptions);
  const inSchema = new WeakMap<DatabaseConnection, string>();
  const reportError = onError ?? ((error: Error) => process.emitWarning(`active schema: ${error.message}`));

  const admin = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const read = async (): Promise<string> => {
    const active = (await getActiveSchema(admin)) ?? fallbackSchema;
    if (active === undefined) {
      throw new Error('No read-model schema is active yet (the projector activates one on its first run)');
    }
    assertIdentifier('schema', active);
    return active;
  };

  let current: string;
  try {
    current = await read();
  } catch (error) {
    await pool.end();
    throw error;
  }
  const adopt = (next: string) => {
    if (next === current) return;
    const previous = current;
    current = next;
    onSwitch?.(next, previous);
  };

  const db = new Kysely<DB>({
    dialect: new PostgresDialect({
      pool,
      onReserveConnection: async (connection) => {
        const schema = current;
        if (inSchema.get(connection) === schema) return;
        await connection.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`));
        inSchema.set(connection, schema);
      },
    }),
  });

  let stopped = false;
  let listener: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const listen = async () => {
    if (stopped) return;
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
    const reopen = (error: Error) => {
      if (listener === client) listener = undefined;
      if (stopped) return;
      reportError(error);
      client.end().catch(() => {});
      retry = setTimeout(() => void listen(), listenerRetryMs);
      retry.unref();
    };
    client.on('error', reopen);
    client.on('end', () => {
      if (!stopped && listener === client) reopen(new Error('LISTEN connection ended'));
    });
    client.on('notification', (message) => {
      if (message.channel !== activeSchemaChannel || message.payload === undefined) return;
      try {
        assertIdentifier('schema', message.payload);
        adopt(message.payload);
      } catch (error) {
        reportError(error as Error);
      }
    });
    try {
      await client.connect();
      await client.query(`listen ${activeSchemaChannel}`);
      listener = client;
      // A switch between the first read and LISTEN would otherwise wait for the poll.
      adopt(await read());
    } catch (error) {
      reopen(error as Error);
    }
  };
  await listen();

  const poll = setInterval(() => {
    read().then(adopt, reportError);
  }, pollMs ?? activeSchemaPollMs);
  poll.unref();

  return {
    db,
    schema: () => current,
    async refresh() {
      adopt(await read());
      return current;
    },
    async destroy() {
      stopped = true;
      clearInterval(poll);
      clearTimeout(retry);
      await listener?.end().catch(() => {});
      await db.destroy();
    },
  };
}
