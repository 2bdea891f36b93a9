import { traceHouseholdUp } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest, migrations } from '@fundtrace/db';
import { createTestDatabase, type TestDatabase } from '@fundtrace/testkit';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countyLog, householdIdOf, loadLog, traceCounty } from '../src/trace-scale';

// Migration 0009 (decision 0059): the household trace reads its lineage by index probes whatever
// the statistics say. Books that were never analyzed (a fresh schema, or the development server
// with autovacuum off before decision 0055) made 0007's function scan every payment flow of the
// partition. Real PostgreSQL: the plan of the statement inside trace_payments_up is read through
// auto_explain (log_nested_statements), sent to this client as LOG notices. Plans, not timings.

const households = 150;
const log = () => countyLog({ households, returnShare: 0.05, seed: 'trace-plan-test' });
const before0009 = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0009'));

describe('trace_payments_up without statistics', () => {
  let database: TestDatabase;
  let current: Kysely<Database>;
  let previous: Kysely<Database>;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    await migrateToLatest(database.db, { schema: 'current' });
    await migrateToLatest(database.db, { schema: 'previous', migrations: before0009 });
    current = createDb<Database>(database.url, { schema: 'current', max: 2 });
    previous = createDb<Database>(database.url, { schema: 'previous', max: 2 });
    // The same books in both schemas; neither is ever analyzed.
    await loadLog(current, log());
    await loadLog(previous, log());
  });

  afterAll(async () => {
    await current?.destroy();
    await previous?.destroy();
    await database?.drop();
  });

  /** The plans auto_explain logs for the statements run inside the function, one per call. */
  async function innerPlans(schema: string, calls: number): Promise<string[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const plans: string[] = [];
    client.on('notice', (notice) => {
      // The function's own statement (the call around it and the payments query are logged too).
      if (notice.message?.includes('from tranche_flows f') === true) plans.push(notice.message);
    });
    try {
      await client.query(`set search_path = ${schema}`);
      await client.query("load 'auto_explain'");
      await client.query('set auto_explain.log_min_duration = 0');
      await client.query('set auto_explain.log_nested_statements = on');
      await client.query('set client_min_messages = log');
      for (let h = 1; h <= calls; h++) {
        const { rows } = await client.query<{ payment_id: string }>(
          'select payment_id from payments where partition = $1 and household_id = $2',
          [traceCounty, householdIdOf(h)],
        );
        await client.query('select count(*) from trace_payments_up($1, $2::text[], 64)', [
          traceCounty,
          rows.map((r) => r.payment_id),
        ]);
      }
    } finally {
      await client.end();
    }
    return plans;
  }

  /** A read of more than the lineage: a scan of a whole table, or of a partition's flows by the primary key's prefix. */
  const scans = /(Seq Scan|Bitmap Heap Scan) on (tranche_flows|payments|tranches)\b|using tranche_flows_pkey/;

  it('probes flows by their whole key, on every call', async () => {
    const plans = await innerPlans('current', 8);
    expect(plans).toHaveLength(8);
    for (const plan of plans) {
      expect(plan).toMatch(/Index (Only )?Scan using tranche_flows_child_up/);
      expect(plan).not.toMatch(scans);
    }
  });

  it('is what 0007 did not: its plan scanned tranches and the partition’s flows', async () => {
    const plans = await innerPlans('previous', 8);
    expect(plans.some((plan) => scans.test(plan))).toBe(true);
  });

  it('returns what 0007 returned, for every household of the books', async () => {
    for (let h = 1; h <= households; h++) {
      const id = householdIdOf(h);
      const [now, before] = [
        await traceHouseholdUp(current, traceCounty, id),
        await traceHouseholdUp(previous, traceCounty, id),
      ];
      expect(now.length).toBeGreaterThan(0);
      expect(now).toEqual(before);
    }
  });
});
