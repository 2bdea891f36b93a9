import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectActiveSchemaDb,
  createDb,
  type Database,
  migrateToLatest,
  setActiveSchema,
} from '../src/index';
import { freshDatabase } from './fresh-database';

let url: string;
let drop: () => Promise<void>;
let admin: Kysely<unknown>;

beforeAll(async () => {
  ({ url, drop } = await freshDatabase('activedb'));
  admin = createDb<unknown>(url);
  for (const [schema, seq] of [
    ['rm_blue', 1n],
    ['rm_green', 2n],
  ] as const) {
    await migrateToLatest(admin, { schema });
    const db = createDb<Database>(url, { schema });
    await db
      .insertInto('projection_checkpoints')
      .values({ consumer: 'projector', stream: 'S', last_seq: seq })
      .execute();
    await db.destroy();
  }
});
afterAll(async () => {
  await admin.destroy();
  await drop();
});

const seqOf = async (db: Kysely<Database>) =>
  (await db.selectFrom('projection_checkpoints').select('last_seq').executeTakeFirstOrThrow()).last_seq;

/**
 * How long a test waits for the reader to follow a switch. expect.poll's default (1 s) was measured
 * too close: at load 19 a switch took up to 831 ms from setActiveSchema to reader.schema() (p90
 * 341 ms). Well under the 60 s poll of the NOTIFY test, so only the notification can still explain
 * its switch.
 */
const switchWait = { timeout: 20_000 };

describe('connectActiveSchemaDb', () => {
  it('refuses to start before any schema is active, unless given a fallback', async () => {
    await expect(connectActiveSchemaDb(url)).rejects.toThrow(/No read-model schema is active/);
    const reader = await connectActiveSchemaDb(url, { fallbackSchema: 'rm_blue' });
    try {
      expect(reader.schema()).toBe('rm_blue');
      expect(await seqOf(reader.db as Kysely<Database>)).toBe(1n);
    } finally {
      await reader.destroy();
    }
  });

  it('follows a switch announced by NOTIFY, for the query builder and raw SQL, and reports it', async () => {
    await setActiveSchema(admin, 'rm_blue');
    const switches: string[] = [];
    const reader = await connectActiveSchemaDb<Database>(url, {
      onSwitch: (schema, previous) => switches.push(`${previous}→${schema}`),
      pollMs: 60_000, // so only the notification can explain a prompt switch
    });
    try {
      expect(await seqOf(reader.db)).toBe(1n);
      await setActiveSchema(admin, 'rm_green');
      await expect.poll(() => reader.schema(), switchWait).toBe('rm_green');
      expect(await seqOf(reader.db)).toBe(2n);
      const { rows } = await sql<{ path: string }>`select current_setting('search_path') as path`.execute(
        reader.db,
      );
      expect(rows[0]?.path).toBe('rm_green');
      expect(switches).toEqual(['rm_blue→rm_green']);
    } finally {
      await reader.destroy();
    }
  });

  it('keeps a transaction in the schema it started in, across a switch', async () => {
    await setActiveSchema(admin, 'rm_blue');
    const reader = await connectActiveSchemaDb<Database>(url);
    try {
      await reader.refresh();
      await reader.db.transaction().execute(async (trx) => {
        expect(await seqOf(trx)).toBe(1n);
        await setActiveSchema(admin, 'rm_green');
        await expect.poll(() => reader.schema(), switchWait).toBe('rm_green');
        expect(await seqOf(trx)).toBe(1n);
      });
      expect(await seqOf(reader.db)).toBe(2n);
    } finally {
      await reader.destroy();
    }
  });

  it('notices a pointer change without a notification through polling', async () => {
    await setActiveSchema(admin, 'rm_green');
    const reader = await connectActiveSchemaDb<Database>(url, { pollMs: 50 });
    try {
      // A direct update sends no NOTIFY: only the poll can see it.
      await sql`update public.fundtrace_active_schema set name = 'rm_blue'`.execute(admin);
      await expect.poll(() => reader.schema(), switchWait).toBe('rm_blue');
      expect(await seqOf(reader.db)).toBe(1n);
    } finally {
      await reader.destroy();
    }
  });

  it('rejects an invalid fallback name', async () => {
    await expect(connectActiveSchemaDb(url, { fallbackSchema: 'Bad-Name' })).rejects.toThrow(
      /Invalid schema name/,
    );
  });
});
