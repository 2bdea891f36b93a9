import { createDb, type Database, dropDatabase, ensureDatabase, migrateToLatest } from '@fundtrace/db';
import type { Kysely } from 'kysely';
import { testConfig } from './config';
import { randomToken } from './random';
import { noteCreated } from './run-ledger';

export interface TestDatabase {
  /** URL of the fresh database. */
  readonly url: string;
  /** kysely over it (pool from @fundtrace/db), migrated to the latest schema. */
  readonly db: Kysely<Database>;
  readonly name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** Any database URL on the server to use; default DATABASE_URL or the machine's PostgreSQL. */
  readonly serverUrl?: string;
  /** Run the @fundtrace/db migrations (default true). */
  readonly migrate?: boolean;
}

/** The URL of database `name` on the server of `serverUrl`. */
export function databaseUrlOn(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database `ft_test_<random>` with the migrations of @fundtrace/db applied,
 * so every test file works alone and files run in parallel.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const name = `ft_test_${randomToken(10)}`;
  const url = databaseUrlOn(options.serverUrl ?? testConfig.databaseServerUrl, name);
  noteCreated('database', name);
  await ensureDatabase(url);
  const db = createDb(url, { applicationName: 'fundtrace-test' });
  try {
    if (options.migrate ?? true) await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    await dropDatabase(url);
    throw error;
  }
  let dropped = false;
  return {
    url,
    db,
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.destroy();
      await dropDatabase(url);
    },
  };
}
