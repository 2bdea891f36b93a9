import { traceHouseholdUp, tracePaymentsUp } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest, migrations } from '@fundtrace/db';
import { createTestDatabase, type TestDatabase } from '@fundtrace/testkit';
import { type Kysely, sql } from 'kysely';
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
/**
 * 0007's trace over today's tables: every migration except those that replace the trace's
 * functions (the books' writers need the tables as they are now, e.g. 0012's event_refs).
 */
const traceMigrations = [
  '0009-trace-probes-without-statistics',
  '0010-household-trace-one-call',
  '0013-household-trace-edges',
];
const before0009 = Object.fromEntries(
  Object.entries(migrations).filter(([name]) => !traceMigrations.includes(name)),
);

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

  /**
   * The plans auto_explain logs for the statements run inside the function, one per call; with
   * `household`, every plan logged while that household function (0010's trace_household_up,
   * 0013's trace_household_edges) runs for each household.
   */
  async function innerPlans(
    schema: string,
    calls: number,
    household: 'trace_household_up' | 'trace_household_edges' | false = false,
  ): Promise<string[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const plans: string[] = [];
    client.on('notice', (notice) => {
      // The function's own statement (the call around it and the payments query are logged too).
      if (household !== false || notice.message?.includes('from tranche_flows f') === true)
        plans.push(notice.message ?? '');
    });
    try {
      await client.query(`set search_path = ${schema}`);
      await client.query("load 'auto_explain'");
      await client.query('set auto_explain.log_min_duration = 0');
      await client.query('set auto_explain.log_nested_statements = on');
      await client.query('set client_min_messages = log');
      for (let h = 1; h <= calls; h++) {
        if (household !== false) {
          await client.query(`select ${household}($1, $2, 1000, 64)`, [traceCounty, householdIdOf(h)]);
          continue;
        }
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

  it('probes a tranche’s parent flows through the flows into tranches only, on every call (0013)', async () => {
    // The recursive step reads the few flows into tranches: through tranche_flows_child_up each
    // probe descended the index of every payment's flow too (fails without migration 0013).
    const plans = await innerPlans('current', 8);
    expect(plans).toHaveLength(8);
    for (const plan of plans) expect(plan).toMatch(/Index (Only )?Scan using tranche_flows_tranche_up/);
  });

  it.each(['trace_household_up', 'trace_household_edges'] as const)(
    '%s reads a household’s payments by its index and its lineage by probes, on every call',
    async (household) => {
      const plans = await innerPlans('current', 8, household);
      // Per call: trace_payments_up's statement, trace_household_up's statement, the call itself.
      expect(plans.length).toBeGreaterThanOrEqual(8 * 2);
      expect(plans.filter((plan) => /Index Scan using payments_household/.test(plan))).toHaveLength(8);
      expect(
        plans.filter((plan) => /Index (Only )?Scan using tranche_flows_child_up/.test(plan)),
      ).toHaveLength(8);
      for (const plan of plans) expect(plan).not.toMatch(scans);
    },
  );

  it('is what 0007 did not: its plan scanned tranches and the partition’s flows', async () => {
    const plans = await innerPlans('previous', 8);
    expect(plans.some((plan) => scans.test(plan))).toBe(true);
  });

  it('answers 0010’s hops in fewer bytes: each distinct edge once, four values a hop (0013)', async () => {
    type Json = string | number | boolean | null;
    const answer = async (fn: string, id: string) =>
      (
        await sql<{
          answer: string;
        }>`select ${sql.raw(fn)}(${traceCounty}, ${id}, 1000, 64) as answer`.execute(current)
      ).rows[0]!.answer;
    let bytes0010 = 0;
    let bytes0013 = 0;
    for (let h = 1; h <= households; h++) {
      const id = householdIdOf(h);
      const [before, now] = [
        await answer('trace_household_up', id),
        await answer('trace_household_edges', id),
      ];
      const [payments, tranches, hops] = JSON.parse(before) as Json[][][];
      const [payments2, tranches2, edges, flat] = JSON.parse(now) as [Json[][], Json[][], Json[][], Json[]];
      expect(payments2).toEqual(payments);
      expect(tranches2).toEqual(tranches);
      // 0010's hop: [payment, depth, child tranche, edge fen, traced fen, tranche, origin partition, origin allocation].
      const rebuilt: Json[][] = [];
      for (let k = 0; k < flat.length; k += 4) {
        const [child, tranche, edgeFen, originPartition, originAllocation] = edges[flat[k + 2] as number]!;
        rebuilt.push([
          flat[k]!,
          flat[k + 1]!,
          child!,
          edgeFen!,
          flat[k + 3]!,
          tranche!,
          originPartition!,
          originAllocation!,
        ]);
      }
      expect(hops!.length).toBeGreaterThan(0);
      expect(rebuilt).toEqual(hops);
      bytes0010 += Buffer.byteLength(before);
      bytes0013 += Buffer.byteLength(now);
    }
    expect(bytes0013).toBeLessThan(bytes0010 * 0.85);
  });

  it('returns what 0007 returned, for every household of the books', async () => {
    for (let h = 1; h <= households; h++) {
      const id = householdIdOf(h);
      // 0007's trace_payments_up over the household's payments, in instruction order.
      const rows = await previous
        .selectFrom('payments')
        .select('payment_id')
        .where('household_id', '=', id)
        .orderBy('instructed_seq')
        .execute();
      const [now, before] = [
        await traceHouseholdUp(current, traceCounty, id),
        await tracePaymentsUp(
          previous,
          traceCounty,
          rows.map((row) => row.payment_id),
        ),
      ];
      expect(now.length).toBeGreaterThan(0);
      expect(now).toEqual(before);
    }
  });
});
