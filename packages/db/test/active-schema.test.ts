import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeSchemaChannel,
  createDb,
  createSchema,
  dropSchema,
  ensureActiveSchemaTable,
  getActiveSchema,
  migrateToLatest,
  schemaExists,
  setActiveSchema,
} from '../src/index';
import { freshDatabase } from './fresh-database';

let url: string;
let drop: () => Promise<void>;
let db: Kysely<unknown>;

beforeAll(async () => {
  ({ url, drop } = await freshDatabase('active'));
  db = createDb<unknown>(url);
});
afterAll(async () => {
  await db.destroy();
  await drop();
});

describe('active schema (blue/green read models)', () => {
  it('lets several processes starting at once create the pointer table and a schema without a catalog race', async () => {
    // Two `create … if not exists` at once can both pass PostgreSQL's existence check; one then
    // fails on pg_type's or pg_namespace's unique index. Each round is a database without the
    // table, with six connections racing to create it and one schema.
    for (let round = 0; round < 4; round += 1) {
      const fresh = await freshDatabase(`race${round}`);
      const racers = Array.from({ length: 6 }, () => createDb<unknown>(fresh.url));
      try {
        await Promise.all(racers.map((racer) => ensureActiveSchemaTable(racer)));
        await Promise.all(racers.map((racer) => createSchema(racer, 'rm_raced')));
        expect(await schemaExists(racers[0]!, 'rm_raced')).toBe(true);
        expect(await getActiveSchema(racers[0]!)).toBeNull();
      } finally {
        await Promise.all(racers.map((racer) => racer.destroy()));
        await fresh.drop();
      }
    }
  });

  it('has no active schema before the first switch, without needing the table to exist', async () => {
    expect(await getActiveSchema(db)).toBeNull();
  });

  it('refuses to activate a schema that does not exist or is not fully migrated', async () => {
    await expect(setActiveSchema(db, 'rm_missing')).rejects.toThrow(/does not exist/);
    await createSchema(db, 'rm_unmigrated');
    await expect(setActiveSchema(db, 'rm_unmigrated')).rejects.toThrow(/migrations pending \(0001-/);
    expect(await getActiveSchema(db)).toBeNull();
  });

  it('switches blue → green, returns the previous schema and notifies listeners on commit', async () => {
    await migrateToLatest(db, { schema: 'rm_blue' });
    await migrateToLatest(db, { schema: 'rm_green' });
    const listener = new pg.Client({ connectionString: url });
    await listener.connect();
    try {
      const heard: string[] = [];
      listener.on('notification', (message) => heard.push(`${message.channel}:${message.payload}`));
      await listener.query(`listen ${activeSchemaChannel}`);

      expect(await setActiveSchema(db, 'rm_blue')).toBeNull();
      expect(await getActiveSchema(db)).toBe('rm_blue');
      expect(await setActiveSchema(db, 'rm_green')).toBe('rm_blue');
      expect(await getActiveSchema(db)).toBe('rm_green');
      // A round trip on the listener's connection delivers notifications already sent to it.
      await listener.query('select 1');
      await expect
        .poll(() => heard)
        .toEqual([`${activeSchemaChannel}:rm_blue`, `${activeSchemaChannel}:rm_green`]);

      const { rows } = await sql<{
        n: bigint;
      }>`select count(*)::int8 as n from public.fundtrace_active_schema`.execute(db);
      expect(rows[0]?.n).toBe(1n);
    } finally {
      await listener.end();
    }
  });

  it('keeps the pointer table to one row even against a direct insert', async () => {
    await expect(
      sql`insert into public.fundtrace_active_schema (singleton, name) values (false, 'rm_blue')`.execute(db),
    ).rejects.toThrow(/check constraint/);
    await expect(
      sql`insert into public.fundtrace_active_schema (name) values ('rm_blue')`.execute(db),
    ).rejects.toThrow(/duplicate key/);
  });

  it('refuses to drop the active schema or public, and drops an inactive one with its tables', async () => {
    expect(await getActiveSchema(db)).toBe('rm_green');
    await expect(dropSchema(db, 'rm_green')).rejects.toThrow(/active schema/);
    await expect(dropSchema(db, 'public')).rejects.toThrow(/public/);
    expect(await schemaExists(db, 'rm_green')).toBe(true);

    await dropSchema(db, 'rm_blue');
    expect(await schemaExists(db, 'rm_blue')).toBe(false);
    await dropSchema(db, 'rm_blue'); // dropping what is already gone is not an error
  });

  it('validates names in every entry point', async () => {
    await expect(createSchema(db, 'a"b')).rejects.toThrow(/Invalid schema name/);
    await expect(setActiveSchema(db, 'A')).rejects.toThrow(/Invalid schema name/);
    await expect(dropSchema(db, '')).rejects.toThrow(/Invalid schema name/);
    await expect(schemaExists(db, 'x y')).rejects.toThrow(/Invalid schema name/);
  });
});
