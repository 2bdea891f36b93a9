/**
 * A page of an entity's trail as the entity grows (decision 0110: a page is one range of
 * event_refs' key, so its cost should not grow with the entity). One pool account gets the given
 * numbers of receipts (three refs each: the account, the receipt, one of 997 payments), written as
 * a bulk loader writes them (test/support/trail-refs.ts); at each size, after ANALYZE, the first
 * page and the page after the middle event are run under EXPLAIN (ANALYZE, BUFFERS) five times.
 * Buffers are the figure to compare (they do not follow the machine's load); times are printed with
 * the load average.
 *
 * Usage: node --import tsx services/projector/bench/trail.ts [refs…=1000 50000 200000] [--limit=200]
 */
import { entityTrailQuery, type TrailQuery } from '@fundtrace/books';
import { createTestDatabase } from '@fundtrace/testkit';
import { sql } from 'kysely';
import { addAccountEvents } from '../test/support/trail-refs';
import { loadAverage } from './support';

const sizes = process.argv
  .slice(2)
  .filter((arg) => !arg.startsWith('--'))
  .map(Number);
const limit = Number(process.argv.find((arg) => arg.startsWith('--limit='))?.slice('--limit='.length) ?? 200);
const partition = '411325';
const pool: TrailQuery = { partition, kind: 'account', id: 'pool', limit };
const samples = 5;

const database = await createTestDatabase();
const db = database.db;
try {
  let refs = 0;
  for (const size of (sizes.length > 0 ? sizes : [1_000, 50_000, 200_000]).sort((a, b) => a - b)) {
    await addAccountEvents(db, { partition, account: 'pool', count: size - refs });
    refs = size;
    await sql`analyze events`.execute(db);
    await sql`analyze event_refs`.execute(db);
    const { rows } = await sql<{ stream: string; seq: bigint }>`
      select stream, seq from event_refs where partition = ${partition} and ref_kind = 'account' and ref_id = 'pool'
      order by recorded_at, stream, seq offset ${Math.floor(size / 2)} limit 1`.execute(db);
    for (const [name, query] of [
      ['first page ', pool],
      ['middle page', { ...pool, after: rows[0]! }],
    ] as const) {
      const runs: { buffers: number; ms: number }[] = [];
      for (let i = 0; i < samples; i++) {
        const { rows: plans } = await sql<{
          'QUERY PLAN': {
            Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number };
            'Execution Time': number;
          }[];
        }>`explain (analyze, buffers, format json) ${entityTrailQuery(query)}`.execute(db);
        const plan = plans[0]!['QUERY PLAN'][0]!;
        runs.push({
          buffers: plan.Plan['Shared Hit Blocks'] + plan.Plan['Shared Read Blocks'],
          ms: plan['Execution Time'],
        });
      }
      const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
      console.log(
        `${size.toLocaleString('en')} refs, ${name} of ${limit}: ${runs.map((r) => r.buffers).join('/')} buffers; median ${ms[Math.floor(samples / 2)]!.toFixed(2)} ms; load average ${loadAverage()}`,
      );
    }
  }
} finally {
  await database.drop();
}
