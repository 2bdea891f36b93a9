import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { assertIdentifier } from './identifiers';
import type { Database } from './schema';
import { exactTypes } from './types';

/**
 * Connections per pool. Ten is pg's own default and fits the development machine: six services
 * plus tests share one PostgreSQL whose max_connections is 100.
 */
export const poolSizeDefault = 10;

/** How long to wait for a connection before failing: an unreachable database must not hang startup. */
export const connectTimeoutMs = 10_000;

/** Idle connections are closed after this, so a quiet service does not pin server slots. */
export const idleTimeoutMs = 30_000;

export interface PoolOptions {
  /**
   * The PostgreSQL schema every connection of this pool works in (its `search_path`, set in the
   * startup packet so no query can run before it applies). Omitted: the server default (`public`).
   * Only this schema is on the path, not `public` too: a table missing from a read-model schema
   * must fail loudly rather than silently resolve to a same-named table elsewhere.
   */
  schema?: string;
  /** Maximum connections (default {@link poolSizeDefault}). */
  max?: number;
  /** Shown in pg_stat_activity, so an operator can tell which service holds a connection. */
  applicationName?: string;
  /**
   * Called when an idle connection fails (server restart, network cut). The pool drops that
   * connection and the next query opens a new one; without a listener Node would crash on the
   * unhandled 'error' event. Default: a process warning.
   */
  onIdleError?: (error: Error) => void;
}

/** A pg pool whose int8 values arrive as `bigint` and numeric/date values as exact strings. */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const max = options.max ?? poolSizeDefault;
  if (!Number.isInteger(max) || max < 1) throw new Error(`Invalid pool size ${max}: expected an integer ≥ 1`);
  if (options.schema !== undefined) assertIdentifier('schema', options.schema);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: idleTimeoutMs,
    application_name: options.applicationName ?? 'fundtrace',
    // The name was checked by assertIdentifier, so it needs no escaping in the options string.
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    types: exactTypes,
  });
  const onIdleError =
    options.onIdleError ??
    ((error: Error) => process.emitWarning(`idle PostgreSQL connection failed: ${error.message}`));
  pool.on('error', onIdleError);
  // A connection that is checked out (mid-transaction) when the server dies emits 'error' on the
  // client, not the pool; the query in flight already rejects, so the listener only has to keep
  // Node from crashing on an unhandled 'error' event.
  pool.on('connect', (client) => {
    client.on('error', (error: Error) =>
      process.emitWarning(`PostgreSQL connection in use failed: ${error.message}`),
    );
  });
  return pool;
}

/**
 * A typed kysely instance over a fresh pool (see {@link createPool}). `db.destroy()` closes the
 * pool. `DB` defaults to the workspace's one {@link Database} interface.
 */
export function createDb<DB = Database>(url: string, options: PoolOptions = {}): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool: createPool(url, options) }) });
}
