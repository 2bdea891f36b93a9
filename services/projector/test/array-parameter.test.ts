import { arrayParameter } from '@fundtrace/books';
import { createDb } from '@fundtrace/db';
import fc from 'fast-check';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The projector writes each column of a batch as one array literal it writes itself
 * (`arrayParameter`) instead of pg's, quoting only what needs it. PostgreSQL must read back
 * exactly the values, whatever the strings hold.
 */
let db: Kysely<unknown>;

beforeAll(() => {
  db = createDb<unknown>(process.env.DATABASE_URL!, { applicationName: 'array-parameter-test' });
});

afterAll(async () => {
  await db?.destroy();
});

async function roundTrip(values: readonly unknown[], type: string): Promise<unknown[]> {
  const { rows } = await sql<{
    a: unknown[];
  }>`select ${arrayParameter(values)}::${sql.raw(type)}[] as a`.execute(db);
  return rows[0]!.a;
}

/** Strings a roster or a payload may hold, and the ones an array literal treats specially. */
const awkward = fc.oneof(
  fc.string({ unit: 'binary' }).map((s) => s.replace(/\u0000/g, '')),
  fc.constantFrom(
    '',
    'NULL',
    'null',
    'Null',
    ' ',
    ' a',
    'a ',
    '{',
    '}',
    ',',
    '"',
    '\\',
    '\\"',
    'a,b',
    '{x}',
    '李*磊',
    '\u3000',
    '\t',
    '\n',
  ),
);

describe('arrayParameter', () => {
  it('reads back every string exactly, NULL and the empty string included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(awkward, { nil: null }), { maxLength: 12 }), async (values) => {
        expect(await roundTrip(values, 'text')).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('reads back bigints, integers, booleans, bytes and JSON text', async () => {
    const big = [0n, -1n, 9_007_199_254_740_993n, null, 12_345n];
    expect((await roundTrip(big, 'bigint')).map((v) => (v === null ? null : BigInt(v as string)))).toEqual(
      big,
    );
    expect(await roundTrip([1, -2, null, 3], 'integer')).toEqual([1, -2, null, 3]);
    expect(await roundTrip([true, false, null], 'boolean')).toEqual([true, false, null]);
    const bytes = [Buffer.from([0, 1, 0xfe, 0xff]), null, Buffer.alloc(0)];
    expect(await roundTrip(bytes, 'bytea')).toEqual(bytes);
    const json = [{ a: '引号 " 和 \\ 反斜杠', b: [1, { c: null }] }, null];
    expect(
      await roundTrip(
        json.map((j) => (j === null ? null : JSON.stringify(j))),
        'jsonb',
      ),
    ).toEqual(json);
  });

  it('leaves an array it cannot write to pg', () => {
    const dates = [new Date(0)];
    expect(arrayParameter(dates)).toEqual(dates);
    expect(arrayParameter(['a', undefined])).toBe('{a,NULL}');
  });
});
