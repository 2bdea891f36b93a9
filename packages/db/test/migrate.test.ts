import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Kysely, type Migration, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  type Database,
  MigrationError,
  migrateToLatest,
  migrations,
  pendingMigrations,
} from '../src/index';
import { freshDatabase } from './fresh-database';

let url: string;
let drop: () => Promise<void>;
let admin: Kysely<unknown>;

beforeAll(async () => {
  ({ url, drop } = await freshDatabase('migrate'));
  admin = createDb<unknown>(url);
});
afterAll(async () => {
  await admin.destroy();
  await drop();
});

async function tablesIn(schema: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables where table_schema = ${schema}
    order by table_name`.execute(admin);
  return rows.map((row) => row.name);
}

describe('migrateToLatest', () => {
  it('builds two schemas side by side, each with its own tables, data and migration history', async () => {
    expect(await migrateToLatest(admin, { schema: 'rm_a' })).toEqual(Object.keys(migrations));
    expect(await migrateToLatest(admin, { schema: 'rm_b' })).toEqual(Object.keys(migrations));
    const inA = await tablesIn('rm_a');
    expect(inA).toEqual(
      expect.arrayContaining(['kysely_migration', 'kysely_migration_lock', 'projection_checkpoints']),
    );
    expect(await tablesIn('rm_b')).toEqual(inA);
    expect(await tablesIn('public')).not.toContain('projection_checkpoints');

    const a = createDb<Database>(url, { schema: 'rm_a' });
    const b = createDb<Database>(url, { schema: 'rm_b' });
    try {
      await a
        .insertInto('projection_checkpoints')
        .values({ consumer: 'p', stream: 'S', last_seq: 10n })
        .execute();
      await b
        .insertInto('projection_checkpoints')
        .values({ consumer: 'p', stream: 'S', last_seq: 20n })
        .execute();
      const seqA = await a.selectFrom('projection_checkpoints').select('last_seq').executeTakeFirstOrThrow();
      const seqB = await b.selectFrom('projection_checkpoints').select('last_seq').executeTakeFirstOrThrow();
      expect([seqA.last_seq, seqB.last_seq]).toEqual([10n, 20n]);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  });

  it('is idempotent: a second run applies nothing', async () => {
    await migrateToLatest(admin, { schema: 'rm_idem' });
    expect(await migrateToLatest(admin, { schema: 'rm_idem' })).toEqual([]);
    expect(await pendingMigrations(admin, { schema: 'rm_idem' })).toEqual([]);
  });

  it('reports every migration as pending for a schema that does not exist or was never migrated', async () => {
    expect(await pendingMigrations(admin, { schema: 'rm_never' })).toEqual(Object.keys(migrations));
    await sql`create schema rm_bare`.execute(admin);
    expect(await pendingMigrations(admin, { schema: 'rm_bare' })).toEqual(Object.keys(migrations));
  });

  it('lets concurrent runners on one schema apply each migration exactly once', async () => {
    // Several rounds of several runners starting at the same instant on a schema that does not
    // exist yet: without a lock around `create schema if not exists`, two of them now and then
    // both pass PostgreSQL's existence check and one fails on pg_namespace's unique index.
    const runners = Array.from({ length: 6 }, () => createDb<unknown>(url));
    try {
      for (let round = 0; round < 8; round += 1) {
        const schema = `rm_race_${round}`;
        const results = await Promise.all(runners.map((db) => migrateToLatest(db, { schema })));
        expect(results.flat().sort()).toEqual(Object.keys(migrations).sort());
        const { rows } = await sql<{
          n: bigint;
        }>`select count(*)::int8 as n from ${sql.table(`${schema}.kysely_migration`)}`.execute(admin);
        expect(rows[0]?.n).toBe(BigInt(Object.keys(migrations).length));
      }
    } finally {
      await Promise.all(runners.map((db) => db.destroy()));
    }
  });

  it('applies only the new migrations when upgrading a schema built by an older set', async () => {
    const first = Object.keys(migrations)[0]!;
    const later: Migration = {
      async up(db) {
        await sql`create table later_table (id int8 primary key)`.execute(db);
      },
    };
    expect(
      await migrateToLatest(admin, { schema: 'rm_up', migrations: { [first]: migrations[first]! } }),
    ).toEqual([first]);
    const extended = { ...migrations, '9999-later': later };
    const rest = [...Object.keys(migrations).slice(1), '9999-later'];
    expect(await pendingMigrations(admin, { schema: 'rm_up', migrations: extended })).toEqual(rest);
    expect(await migrateToLatest(admin, { schema: 'rm_up', migrations: extended })).toEqual(rest);
    expect(await tablesIn('rm_up')).toContain('later_table');
  });

  it('applies a migration registered after a higher-numbered one already ran (parallel numbering)', async () => {
    const table = (name: string): Migration => ({
      async up(db) {
        await sql`create table ${sql.id(name)} (id int8 primary key)`.execute(db);
      },
    });
    const higher = { '9998-higher': table('higher_table') };
    expect(await migrateToLatest(admin, { schema: 'rm_gap', migrations: higher })).toEqual(['9998-higher']);
    const both = { '9997-lower': table('lower_table'), ...higher };
    expect(await pendingMigrations(admin, { schema: 'rm_gap', migrations: both })).toEqual(['9997-lower']);
    expect(await migrateToLatest(admin, { schema: 'rm_gap', migrations: both })).toEqual(['9997-lower']);
    expect(await tablesIn('rm_gap')).toEqual(expect.arrayContaining(['higher_table', 'lower_table']));
  });

  it('rolls the whole run back when a migration fails, and names the failing migration', async () => {
    const broken: Migration = {
      async up(db) {
        await sql`create table half_done (id int8)`.execute(db);
        await sql`select * from no_such_table`.execute(db);
      },
    };
    const run = migrateToLatest(admin, {
      schema: 'rm_broken',
      migrations: { ...migrations, '9999-broken': broken },
    });
    await expect(run).rejects.toBeInstanceOf(MigrationError);
    await expect(run).rejects.toThrow(/rm_broken failed at 9999-broken: .*no_such_table/);
    // Transactional DDL: neither 0001's table nor the half-built one survived.
    expect(await tablesIn('rm_broken')).not.toContain('projection_checkpoints');
    expect(await tablesIn('rm_broken')).not.toContain('half_done');
  });

  it('rejects an invalid schema name before touching the database', async () => {
    await expect(migrateToLatest(admin, { schema: 'rm;drop' })).rejects.toThrow(/Invalid schema name/);
    await expect(pendingMigrations(admin, { schema: 'Upper' })).rejects.toThrow(/Invalid schema name/);
  });
});

describe('0001-projection-checkpoints', () => {
  it('keys checkpoints by (consumer, stream) and refuses a negative sequence', async () => {
    const db = createDb<Database>(url, { schema: 'rm_a' });
    try {
      await expect(
        db
          .insertInto('projection_checkpoints')
          .values({ consumer: 'p', stream: 'S', last_seq: 11n })
          .execute(),
      ).rejects.toThrow(/duplicate key/);
      await expect(
        db
          .insertInto('projection_checkpoints')
          .values({ consumer: 'p', stream: 'T', last_seq: -1n })
          .execute(),
      ).rejects.toThrow(/check constraint/);
      await db
        .insertInto('projection_checkpoints')
        .values({ consumer: 'p', stream: 'T', last_seq: 0n })
        .execute();
    } finally {
      await db.destroy();
    }
  });
});

describe('migration files', () => {
  const dir = join(import.meta.dirname, '../src/migrations');
  const files = readdirSync(dir).filter((file) => /^\d{4}-[a-z0-9-]+\.ts$/.test(file));

  it('are registered, in file-name order, under their file names', () => {
    expect(Object.keys(migrations)).toEqual(files.map((file) => file.replace(/\.ts$/, '')).sort());
    expect(readdirSync(dir).sort()).toEqual([...files, 'index.ts'].sort());
  });

  // A migration is frozen, so it may use nothing that can still change: kysely, or an earlier
  // migration (frozen too; a `down` that puts back the function it replaced calls that one's `up`).
  it.each(files)('%s imports nothing but kysely and earlier migrations, and names no schema', (file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    const imported = [...source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
      (match) => match[1] ?? '',
    );
    expect(imported.length).toBeGreaterThan(0);
    for (const specifier of imported) {
      if (specifier === 'kysely') continue;
      const earlier = /^\.\/(\d{4}-[a-z0-9-]+)$/.exec(specifier)?.[1];
      expect(earlier, `${file} imports ${specifier}`).toBeDefined();
      expect(files).toContain(`${earlier}.ts`);
      expect(`${earlier}.ts` < file, `${file} imports a later migration ${specifier}`).toBe(true);
    }
    const code = source.replace(/^\s*\/\/.*$/gm, ''); // the rule is about code, not the comments explaining it
    expect(code).not.toMatch(/withSchema|\bpublic\.|search_path/);
  });
});
