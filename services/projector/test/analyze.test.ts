import { analyzeStaleTables } from '@fundtrace/books';
import { migrateToLatest } from '@fundtrace/db';
import { createTestDatabase, type TestDatabase } from '@fundtrace/testkit';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The projector analyzes a table of its schema again only when its rows changed by more than 50 +
 * `analyzeChangedShare` (100 %) of the rows at its last analysis (decisions 0055, 0106): often
 * enough that a growing table is never costed as empty, rarely enough that ANALYZE does not take a
 * third of the projector's PostgreSQL CPU as autovacuum's 10 % did.
 */
let database: TestDatabase;
const schema = 'books';

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db, { schema });
  await sql`create table books.analyze_probe (n integer not null)`.execute(database.db);
});
afterAll(async () => {
  await database?.drop();
});

/** Appends `rows` rows and waits until the statistics count them (they are flushed asynchronously). */
async function append(rows: number, changedSinceAnalyze: number): Promise<void> {
  await sql`insert into books.analyze_probe select g from generate_series(1, ${rows}) g`.execute(database.db);
  for (let tries = 0; ; tries++) {
    const { rows: seen } = await sql<{ n: string | null }>`
      select (select n_mod_since_analyze from pg_stat_user_tables
        where schemaname = ${schema} and relname = 'analyze_probe')::text as n,
        pg_stat_clear_snapshot()`.execute(database.db);
    if (Number(seen[0]!.n) === changedSinceAnalyze) return;
    if (tries > 200)
      throw new Error(`statistics show ${seen[0]!.n} changed rows, not ${changedSinceAnalyze}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('analyzeStaleTables', () => {
  it('analyzes a table once its rows more than doubled since the last analysis, not before', async () => {
    await append(1_000, 1_000);
    expect(await analyzeStaleTables(database.db, schema)).toContain('analyze_probe');
    // 600 changed rows on 1,000 analyzed: autovacuum's 10 % rule (150) would analyze again.
    await append(600, 600);
    expect(await analyzeStaleTables(database.db, schema)).not.toContain('analyze_probe');
    // 1,100 changed rows: past 50 + 100 % of 1,000.
    await append(500, 1_100);
    expect(await analyzeStaleTables(database.db, schema)).toContain('analyze_probe');
    const { rows } = await sql<{ reltuples: number }>`
      select reltuples from pg_class where oid = 'books.analyze_probe'::regclass`.execute(database.db);
    expect(rows[0]!.reltuples).toBe(2_100);
  });
});
