import pg from 'pg';
import { connectTimeoutMs } from './connect';
import { assertIdentifier } from './identifiers';

/** Every PostgreSQL cluster has this database; we connect to it to create or drop others. */
const maintenanceDatabase = 'postgres';

/** SQLSTATEs meaning "someone else created it first" (a concurrent CREATE DATABASE race). */
const duplicateDatabase = '42P04';
const uniqueViolation = '23505';

/** The database name in a postgres:// URL, validated as a plain identifier. */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  assertIdentifier('database', name);
  return name;
}

function maintenanceUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${maintenanceDatabase}`;
  return parsed.toString();
}

async function withMaintenanceClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: maintenanceUrl(url),
    connectionTimeoutMillis: connectTimeoutMs,
  });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates the database named in `url` unless it exists; returns whether it created it. Safe to
 * call from several processes at once (`npm start` launches services in parallel).
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  return withMaintenanceClient(url, async (client) => {
    const existing = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount !== 0) return false;
    try {
      // Identifiers cannot be bound parameters; the name was validated to [a-z0-9_].
      await client.query(`create database "${name}"`);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === duplicateDatabase || code === uniqueViolation) return false;
      throw error;
    }
  });
}

/**
 * Drops the database named in `url` if it exists, disconnecting its sessions (tests and
 * benchmarks clean up after themselves). Refuses the maintenance database.
 */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  if (name === maintenanceDatabase) throw new Error(`Refusing to drop the ${maintenanceDatabase} database`);
  await withMaintenanceClient(url, async (client) => {
    await client.query(`drop database if exists "${name}" with (force)`);
  });
}
