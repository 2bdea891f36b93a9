import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createPool, type Database, migrateToLatest } from '../src/index';
import { freshDatabase } from './fresh-database';

let url: string;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ url, drop } = await freshDatabase('connect'));
});
afterAll(async () => drop());

describe('createDb type parsers', () => {
  it('round-trips 2^62 fen through a bigint column exactly (a Number would round it)', async () => {
    const db = createDb(url);
    try {
      await migrateToLatest(db);
      const big = 2n ** 62n;
      expect(BigInt(Number(big + 1n))).not.toBe(big + 1n); // a float cannot hold this value
      await db
        .insertInto('projection_checkpoints')
        .values({ consumer: 'projector', stream: 'LEDGER_411325', last_seq: big + 1n })
        .execute();
      const row = await db
        .selectFrom('projection_checkpoints')
        .select(['last_seq', 'updated_at'])
        .where('consumer', '=', 'projector')
        .executeTakeFirstOrThrow();
      expect(row.last_seq).toBe(big + 1n);
      expect(typeof row.last_seq).toBe('bigint');
      expect(row.updated_at).toBeInstanceOf(Date);
    } finally {
      await db.destroy();
    }
  });

  it('parses int8 limits, int8[] with nulls, numeric and numeric[] exactly, and date as a plain day', async () => {
    const db = createDb(url);
    try {
      const { rows } = await sql<{
        max: bigint;
        min: bigint;
        arr: (bigint | null)[];
        num: string;
        nums: string[];
        day: string;
        days: string[];
      }>`select 9223372036854775807::int8 as max, (-9223372036854775807 - 1)::int8 as min,
            array[1, null, 4611686018427387905]::int8[] as arr,
            12345678901234567890.123456789::numeric as num,
            array[0.1, 98765432109876543210.5]::numeric[] as nums,
            '2018-06-30'::date as day, array['2016-01-01'::date, '2020-12-31'::date] as days`.execute(db);
      expect(rows[0]).toEqual({
        max: 9223372036854775807n,
        min: -9223372036854775808n,
        arr: [1n, null, 4611686018427387905n],
        num: '12345678901234567890.123456789',
        nums: ['0.1', '98765432109876543210.5'],
        day: '2018-06-30',
        days: ['2016-01-01', '2020-12-31'],
      });
    } finally {
      await db.destroy();
    }
  });

  it('binds bigint parameters without loss', async () => {
    const db = createDb(url);
    try {
      const value = 2n ** 62n + 7n;
      const { rows } = await sql<{ echoed: bigint; text: string }>`
        select ${value}::int8 as echoed, ${value}::int8::text as text`.execute(db);
      expect(rows[0]).toEqual({ echoed: value, text: value.toString() });
    } finally {
      await db.destroy();
    }
  });

  it('keeps the parsers on its own pools: a plain pg client still gets int8 as a string', async () => {
    const pool = createPool(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const ours = await pool.query('select 42::int8 as n');
      const theirs = await client.query('select 42::int8 as n');
      expect(ours.rows[0].n).toBe(42n);
      expect(theirs.rows[0].n).toBe('42');
    } finally {
      await client.end();
      await pool.end();
    }
  });
});

describe('createDb schema option', () => {
  it('resolves unqualified tables in the given schema only, never falling back to public', async () => {
    const admin = createDb(url);
    const blue = createDb<Database>(url, { schema: 'rm_blue' });
    try {
      await migrateToLatest(admin); // public has projection_checkpoints
      await migrateToLatest(admin, { schema: 'rm_blue' });
      await blue
        .insertInto('projection_checkpoints')
        .values({ consumer: 'c', stream: 's', last_seq: 5n })
        .execute();
      const inBlue = await sql<{ n: bigint }>`select count(*)::int8 as n from rm_blue.projection_checkpoints
        where consumer = 'c'`.execute(admin);
      const inPublic = await sql<{ n: bigint }>`select count(*)::int8 as n from public.projection_checkpoints
        where consumer = 'c'`.execute(admin);
      expect(inBlue.rows[0]?.n).toBe(1n);
      expect(inPublic.rows[0]?.n).toBe(0n);
      const { rows } = await sql<{ path: string }>`select current_setting('search_path') as path`.execute(
        blue,
      );
      expect(rows[0]?.path).toBe('rm_blue');

      const empty = createDb<Database>(url, { schema: 'rm_empty' });
      try {
        await admin.schema.createSchema('rm_empty').execute();
        await expect(empty.selectFrom('projection_checkpoints').selectAll().execute()).rejects.toThrow(
          /relation "projection_checkpoints" does not exist/,
        );
      } finally {
        await empty.destroy();
      }
    } finally {
      await blue.destroy();
      await admin.destroy();
    }
  });

  it.each([
    ['', 'empty'],
    ['Rm_blue', 'upper case would be folded by PostgreSQL'],
    ['rm-blue', 'dash needs quoting'],
    ['rm blue', 'space'],
    ['rm;drop schema public', 'injection'],
    ['1rm', 'leading digit'],
    ['pg_temp', 'reserved prefix'],
    ['a'.repeat(64), 'longer than 63 bytes'],
  ])('rejects schema name %j (%s) before connecting', (schema) => {
    expect(() => createPool(url, { schema })).toThrow(/Invalid schema name/);
  });

  it('accepts a 63-character schema name (the longest PostgreSQL keeps whole)', async () => {
    const pool = createPool(url, { schema: 'a'.repeat(63) });
    await pool.end();
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects pool size %s', (max) => {
    expect(() => createPool(url, { max })).toThrow(/Invalid pool size/);
  });
});
