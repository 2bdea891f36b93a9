import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseName, dropDatabase, ensureDatabase } from '../src/index';
import { uniqueDatabaseUrl } from './fresh-database';

async function exists(url: string): Promise<boolean> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [
      databaseName(url),
    ]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('ensureDatabase / dropDatabase', () => {
  it('creates the database once, even when several processes race to create it', async () => {
    const url = uniqueDatabaseUrl('ensure');
    try {
      expect(await exists(url)).toBe(false);
      const created = await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await exists(url)).toBe(true);
      expect(await ensureDatabase(url)).toBe(false);
    } finally {
      await dropDatabase(url);
    }
    expect(await exists(url)).toBe(false);
  });

  it('drops a database that still has open sessions', async () => {
    const url = uniqueDatabaseUrl('busy');
    await ensureDatabase(url);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {}); // the forced drop terminates this session on purpose
    await client.connect();
    await dropDatabase(url);
    expect(await exists(url)).toBe(false);
    await client.end().catch(() => {});
  });

  it.each([
    ['postgres://postgres@127.0.0.1:5432/', 'no name'],
    ['postgres://postgres@127.0.0.1:5432/Fundtrace', 'upper case'],
    ['postgres://postgres@127.0.0.1:5432/fund%22trace', 'a quote'],
    ['postgres://postgres@127.0.0.1:5432/fund-trace', 'a dash'],
  ])('refuses %s (%s)', async (url) => {
    await expect(ensureDatabase(url)).rejects.toThrow(/Invalid database name/);
  });

  it('refuses to drop the maintenance database', async () => {
    await expect(dropDatabase('postgres://postgres@127.0.0.1:5432/postgres')).rejects.toThrow(/Refusing/);
  });
});
