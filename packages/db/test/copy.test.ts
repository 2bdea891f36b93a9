import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyText, createCopyingDb } from '../src/index';
import { freshDatabase } from './fresh-database';

/**
 * createCopyingDb's COPY (a rebuild's bulk path, decision 0065) must store exactly what an INSERT
 * of the same values stores, inside the caller's transaction.
 */
let url: string;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ url, drop } = await freshDatabase('copy'));
});
afterAll(async () => drop());

const columns = `(id int primary key, label text, amount_fen bigint, flag boolean, hash bytea, data jsonb,
  day date, at timestamptz, note text)`;

/** Values a text-format COPY must escape or mark: tab, newline, CR, backslash, `\N` as text, null. */
const rows = [
  {
    id: 1,
    label: 'tab\there, newline\nthere, cr\rhere, backslash \\ and \\N as text',
    amount_fen: 9_007_199_254_740_993n,
    flag: true,
    hash: Buffer.from([0, 1, 0xfe, 0xff, 0x5c, 0x09]),
    data: JSON.stringify({ name: '张\t三', path: 'a\\b', lines: 'x\ny' }),
    day: '2019-03-15',
    at: '2019-03-15T10:00:00+08:00',
    note: null,
  },
  {
    id: 2,
    label: '',
    amount_fen: 0n,
    flag: false,
    hash: new Uint8Array(0),
    data: '{}',
    day: '2020-01-01',
    at: '2020-01-01T00:00:00Z',
    note: undefined,
  },
];

describe('createCopyingDb', () => {
  it('stores by COPY exactly what INSERT stores, escapes included', async () => {
    const { db, copy } = createCopyingDb<unknown>(url, { max: 2 });
    try {
      await sql`create table copied ${sql.raw(columns)}`.execute(db);
      await sql`create table inserted ${sql.raw(columns)}`.execute(db);
      await db.transaction().execute((trx) => copy(trx, 'copied', rows));
      for (const row of rows) {
        await sql`insert into inserted values (${row.id}, ${row.label}, ${row.amount_fen}, ${row.flag},
          ${Buffer.from(row.hash)}, ${row.data}::jsonb, ${row.day}, ${row.at}, ${row.note ?? null})`.execute(
          db,
        );
      }
      const { rows: copied } = await sql`select * from copied order by id`.execute(db);
      const { rows: inserted } = await sql`select * from inserted order by id`.execute(db);
      expect(copied).toEqual(inserted);
      expect(copied).toHaveLength(2);
      expect((copied[0] as { label: string }).label).toBe(rows[0]!.label);
      expect((copied[0] as { note: unknown }).note).toBeNull();
    } finally {
      await db.destroy();
    }
  });

  it('runs on the transaction’s connection: a rollback takes the copied rows with it', async () => {
    const { db, copy } = createCopyingDb<unknown>(url, { max: 3 });
    try {
      await sql`create table rolled ${sql.raw(columns)}`.execute(db);
      await expect(
        db.transaction().execute(async (trx) => {
          await copy(trx, 'rolled', rows);
          const { rows: seen } = await sql<{ n: number }>`select count(*)::int as n from rolled`.execute(trx);
          expect(seen[0]!.n).toBe(2);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      const { rows: left } = await sql<{ n: number }>`select count(*)::int as n from rolled`.execute(db);
      expect(left[0]!.n).toBe(0);
    } finally {
      await db.destroy();
    }
  });

  it('refuses values it would have to guess at, and names the column', () => {
    expect(() => copyText(['at'], [{ at: new Date(0) }])).toThrow(/column at: a object/);
    expect(() => copyText(['n'], [{ n: Number.NaN }])).toThrow(/column n/);
    expect(() => copyText(['tags'], [{ tags: ['a'] }])).toThrow(/column tags/);
  });
});
