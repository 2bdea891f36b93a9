import { traceHouseholdUp, tracePaymentsUp } from '@fundtrace/books';
import { createDb, type Database, migrateToLatest } from '@fundtrace/db';
import { createTestDatabase, type TestDatabase } from '@fundtrace/testkit';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countyLog,
  householdIdOf,
  loadLog,
  paymentsPerHousehold,
  projectLog,
  traceCounty,
} from '../src/trace-scale';

// The trace benchmark's fast loader (`loadLog`) must leave exactly the rows the projector leaves
// for the same log (`projectLog`: every event through projectBatch), in every table it writes,
// and every household must trace the same. Real PostgreSQL, one database, two schemas.

const households = 60;
/** Far above the generator's 0.4 %, so that a small log has returns and re-payments. */
const returnShare = 0.05;
const log = () => countyLog({ households, returnShare, seed: 'trace-scale-test' });

/** Tables the fast loader writes, with their keys (the order rows are compared in). */
const written: Readonly<Record<string, string>> = {
  payments: 'partition, payment_id',
  tranche_flows: 'partition, seq, piece_no',
  rosters: 'partition, roster_id',
  tranches: 'partition, tranche_id',
  balances: 'partition, account_id',
  receipts: 'partition, receipt_id',
  allocations: 'from_partition, allocation_id',
};

describe('trace-scale: the fast loader leaves the projector’s rows', () => {
  let database: TestDatabase;
  let projected: Kysely<Database>;
  let loaded: Kysely<Database>;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    projected = createDb<Database>(database.url, { schema: 'projected', max: 2 });
    loaded = createDb<Database>(database.url, { schema: 'loaded', max: 2 });
    await migrateToLatest(database.db, { schema: 'projected' });
    await migrateToLatest(database.db, { schema: 'loaded' });
    const slow = await projectLog(projected, log());
    // Small blocks, so that the loader's block boundaries are crossed many times.
    const fast = await loadLog(loaded, log(), { blockEvents: 300 });
    expect(fast).toBe(slow);
  });

  afterAll(async () => {
    await projected?.destroy();
    await loaded?.destroy();
    await database?.drop();
  });

  it('is pure: the same options give the same log', () => {
    const a = [...log()];
    const b = [...log()];
    expect(JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(
      JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
    );
  });

  it('has the county’s shapes: returns, re-payments, payments drawn from two tranches', async () => {
    const { rows } = await sql<{
      returned: number;
      repaid: number;
      straddling: number;
      per_household: number;
    }>`
      select (select count(*)::int from payments where status = 'returned') as returned,
             (select count(*)::int from payments where roster_id is null) as repaid,
             (select count(*)::int from (select child_id from tranche_flows where child_kind = 'payment'
                group by child_id having count(*) > 1) s) as straddling,
             (select min(n)::int from (select count(*) n from payments group by household_id) s) as per_household`.execute(
      projected,
    );
    const shape = rows[0]!;
    expect(shape.returned).toBeGreaterThan(0);
    expect(shape.repaid).toBe(shape.returned);
    expect(shape.straddling).toBeGreaterThan(0);
    expect(shape.per_household).toBe(paymentsPerHousehold);
  });

  for (const [table, key] of Object.entries(written)) {
    it(`writes ${table} row for row as the projector does`, async () => {
      const read = async (db: Kysely<Database>) =>
        (
          await sql<
            Record<string, unknown>
          >`select * from ${sql.table(table)} order by ${sql.raw(key)}`.execute(db)
        ).rows;
      const [a, b] = [await read(projected), await read(loaded)];
      expect(a.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
    });
  }

  it('writes the bank’s answers in place: one index entry per payment (migration 0011)', async () => {
    // Pages of payments are filled to 45 %, so the settled or returned version of a row stays on
    // its page (a HOT update) and no index gains an entry for it: a household's trace reads one
    // page per payment. The fast loader writes every answered row twice in one transaction
    // (instructed, then answered), as the projector does when the bank's file comes in a later
    // batch: at 100 % each answer added a second entry to each of the four indexes (this fails).
    // The projector's schema here mostly gets both events in one batch, so one write a row.
    await sql`create extension if not exists pgstattuple with schema public`.execute(database.db);
    for (const db of [projected, loaded]) {
      const { rows } = await sql<{ payments: number; updated: number; entries: number }>`
        select (select count(*)::int from payments) as payments,
               (select count(*)::int from payments where status <> 'instructed') as updated,
               (select tuple_count::int from public.pgstattuple('payments_household')) as entries`.execute(
        db,
      );
      expect(rows[0]!.updated).toBeGreaterThan(0);
      expect(rows[0]!.entries).toBe(rows[0]!.payments);
    }
  });

  it('traces every household the same in both', async () => {
    for (let h = 1; h <= households; h++) {
      const [a, b] = [
        await traceHouseholdUp(projected, traceCounty, householdIdOf(h)),
        await traceHouseholdUp(loaded, traceCounty, householdIdOf(h)),
      ];
      expect(a.length).toBeGreaterThanOrEqual(paymentsPerHousehold);
      expect(b).toEqual(a);
      // The household query (one JSON answer) gives what the row-by-row payment trace gives.
      const rows = await tracePaymentsUp(
        projected,
        traceCounty,
        a.map((trace) => trace.paymentId),
      );
      expect(a).toEqual(rows);
      for (const trace of a)
        expect(trace.roots.reduce((sum, root) => sum + root.tracedFen, 0n)).toBe(trace.amountFen);
    }
  });
});
