import type { Projector } from '@fundtrace/books';
import {
  checkBooks,
  entityTrail,
  spendingProgress,
  traceAllocationDown,
  traceHouseholdUp,
} from '@fundtrace/books';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRig, projectUntil, type Rig } from './support/harness';
import {
  central,
  city,
  county,
  docCentral,
  docProvince,
  province,
  village,
  writeScenario,
} from './support/scenario';

let rig: Rig;
let projector: Projector;

beforeAll(async () => {
  rig = await openRig();
  writeScenario(rig.log);
  const tails = await rig.log.flush();
  projector = await projectUntil(rig, tails);
});
afterAll(async () => {
  await projector?.stop();
  await rig?.close();
});

describe('the hand-built scenario, projected', () => {
  it('keeps every tranche remainder to the fen', async () => {
    const rows = await rig.db
      .selectFrom('tranches')
      .select(['partition', 'tranche_id', 'amount_fen', 'remaining_fen', 'is_root'])
      .orderBy('partition')
      .orderBy('tranche_id')
      .execute();
    const remaining = Object.fromEntries(
      rows.map((r) => [`${r.partition}/${r.tranche_id}`, r.remaining_fen]),
    );
    expect(remaining).toEqual({
      '000000/c-t1': 40_000_000n,
      '410000/p-t1': 30_000_000n,
      '410000/p-t2': 10_000_000n,
      '410300/y-t1': 5_000_000n,
      '410300/y-t2': 5_000_000n,
      '411325/k-t1': 5_000_000n,
      '411325/k-t2': 0n,
      // 20,000,000 − 8,000,000 earmarked; the 300,000 of the returned payment came back.
      '411325/k-i1': 12_000_000n,
      // 5,000,000 − 2,500,000 − 800,000 − 800,000 (re-payment); the returned 500,000 came back.
      '411325/k-i2': 900_000n,
      '411325/k-e1': 3_000_000n,
      '411325/k-d1': 5_000_000n,
    });
    expect(rows.filter((r) => r.is_root).map((r) => r.tranche_id)).toEqual(['c-t1', 'p-t2']);
  });

  it('balances every account, nominal ones included, and every event', async () => {
    const balances = await rig.db
      .selectFrom('balances')
      .select(['account_id', 'balance_fen'])
      .where('partition', '=', county)
      .orderBy('account_id')
      .execute();
    expect(Object.fromEntries(balances.map((b) => [b.account_id, b.balance_fen]))).toEqual({
      '@households': 4_100_000n,
      '@pending': 0n,
      '@received': -30_000_000n,
      'iu-coop': 5_000_000n,
      pool: 5_000_000n + 12_000_000n + 900_000n,
      'prj-road': 3_000_000n,
    });
    const { rows } = await sql<{ unbalanced: string }>`
      select count(*)::text as unbalanced from (
        select partition, seq from entries group by partition, seq
        having sum(case when side = 'debit' then amount_fen else -amount_fen end) <> 0) u`.execute(rig.db);
    expect(rows[0]!.unbalanced).toBe('0');
  });

  it('records allocations issued and received across partitions', async () => {
    const rows = await rig.db
      .selectFrom('allocations')
      .select(['from_partition', 'allocation_id', 'to_partition', 'issued_fen', 'received_fen'])
      .orderBy('from_partition')
      .execute();
    expect(rows).toEqual([
      {
        from_partition: '000000',
        allocation_id: 'a-henan',
        to_partition: '410000',
        issued_fen: 60_000_000n,
        received_fen: 60_000_000n,
      },
      {
        from_partition: '410000',
        allocation_id: 'a-luoyang',
        to_partition: '410300',
        issued_fen: 40_000_000n,
        received_fen: 40_000_000n,
      },
      {
        from_partition: '410300',
        allocation_id: 'a-neixiang',
        to_partition: '411325',
        issued_fen: 30_000_000n,
        received_fen: 30_000_000n,
      },
    ]);
  });

  it('keeps payment statuses, project totals and the trail', async () => {
    const payments = await rig.db
      .selectFrom('payments')
      .select(['payment_id', 'status', 'household_id'])
      .orderBy('payment_id')
      .execute();
    expect(payments.map((p) => `${p.payment_id}:${p.household_id}:${p.status}`)).toEqual([
      'pay-1:H001:settled',
      'pay-2:H002:settled',
      'pay-3:H003:returned',
      'pay-4:H003:settled',
    ]);
    const project = await rig.db.selectFrom('projects').selectAll().executeTakeFirstOrThrow();
    expect([project.earmarked_fen, project.disbursed_fen, project.acceptance_count]).toEqual([
      8_000_000n,
      5_000_000n,
      1,
    ]);
    const events = await rig.db
      .selectFrom('events')
      .select(({ fn }) => fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    // 3 central + 4 provincial + 3 city + 19 county events.
    expect(Number(events.n)).toBe(29);
  });
});

describe('trace queries over the scenario (@fundtrace/books)', () => {
  it('traces household H003 up to its root allocations, fen by fen, hop by hop', async () => {
    const traces = await traceHouseholdUp(rig.db, county, 'H003');
    expect(traces.map((t) => [t.paymentId, t.status, t.amountFen])).toEqual([
      ['pay-3', 'returned', 800_000n],
      ['pay-4', 'settled', 800_000n],
    ]);
    const [returned, repaid] = traces as [(typeof traces)[0], (typeof traces)[0]];
    // The re-payment: 800,000 fen of k-i2 ← k-t2 ← y-t2 (Luoyang) ← p-t2, Henan's own appropriation.
    expect(
      repaid.hops.map((h) => [
        h.depth,
        `${h.parent.partition}/${h.parent.trancheId}`,
        h.childId,
        h.edgeFen,
        h.tracedFen,
      ]),
    ).toEqual([
      [1, '411325/k-i2', 'pay-4', 800_000n, 800_000n],
      [2, '411325/k-t2', 'k-i2', 5_000_000n, 800_000n],
      [3, '410300/y-t2', 'k-t2', 5_000_000n, 800_000n],
      [4, '410000/p-t2', 'y-t2', 10_000_000n, 800_000n],
    ]);
    expect(repaid.hops[2]!.allocation).toEqual({ fromPartition: city, allocationId: 'a-neixiang' });
    expect(repaid.hops[3]!.allocation).toEqual({ fromPartition: province, allocationId: 'a-luoyang' });
    expect(
      repaid.roots.map((r) => [
        r.tranche.partition,
        r.tranche.trancheId,
        r.tranche.documentNumber,
        r.tranche.fundSource,
        r.payer,
        r.tracedFen,
      ]),
    ).toEqual([[province, 'p-t2', docProvince, 'province', '河南省财政厅', 800_000n]]);
    // The returned payment came from two tranches; its lineage reaches both roots.
    expect(
      returned.roots.map((r) => [
        r.tranche.partition,
        r.tranche.trancheId,
        r.tranche.documentNumber,
        r.tracedFen,
      ]),
    ).toEqual([
      [central, 'c-t1', docCentral, 300_000n],
      [province, 'p-t2', docProvince, 500_000n],
    ]);
    const deepest = returned.hops.filter((h) => h.parent.trancheId === 'c-t1');
    expect(deepest.map((h) => [h.depth, h.childId, h.edgeFen, h.tracedFen, h.allocation])).toEqual([
      [5, 'p-t1', 60_000_000n, 300_000n, { fromPartition: central, allocationId: 'a-henan' }],
    ]);
  });

  it('traces the central allocation down to the unit, the unspent money and what is in transit', async () => {
    const trace = await traceAllocationDown(rig.db, central, 'a-henan');
    expect(trace).not.toBeNull();
    expect([trace!.issuedFen, trace!.receivedFen, trace!.inTransitFen]).toEqual([
      60_000_000n,
      60_000_000n,
      0n,
    ]);
    // p-t1 30,000,000 + y-t1 5,000,000 + k-t1 5,000,000 + k-i1 12,000,000 + k-e1 3,000,000 unspent; 5,000,000 at the unit.
    expect(trace!.unspentFen).toBe(55_000_000n);
    expect(trace!.units).toEqual([
      { partition: county, accountId: 'iu-coop', projectId: 'prj-road', disbursedFen: 5_000_000n },
    ]);
    expect(trace!.households).toEqual([
      {
        partition: county,
        householdId: 'H003',
        paidFen: 0n,
        returnedFen: 300_000n,
        reversedFen: 0n,
        payments: 1,
      },
    ]);
    expect(trace!.unspentFen + trace!.disbursedFen + trace!.paidFen + trace!.onwardInTransitFen).toBe(
      trace!.receivedFen,
    );
  });

  it('traces the provincial allocation down to every household', async () => {
    const trace = (await traceAllocationDown(rig.db, province, 'a-luoyang'))!;
    expect(trace.households.map((h) => [h.householdId, h.paidFen, h.returnedFen])).toEqual([
      ['H001', 2_500_000n, 0n],
      ['H002', 800_000n, 0n],
      ['H003', 800_000n, 800_000n],
    ]);
    expect([trace.paidFen, trace.disbursedFen, trace.unspentFen]).toEqual([
      4_100_000n,
      5_000_000n,
      30_900_000n,
    ]);
    expect(trace.unspentFen + trace.disbursedFen + trace.paidFen + trace.onwardInTransitFen).toBe(
      40_000_000n,
    );
    expect(await traceAllocationDown(rig.db, province, 'no-such-allocation')).toBeNull();
  });

  it('gives the trail of a payment and of a household with stream, sequence, actor and leaf hash', async () => {
    const trail = await entityTrail(rig.db, { partition: county, kind: 'payment', id: 'pay-3' });
    expect(trail.map((e) => e.type)).toEqual(['PaymentInstructed', 'PaymentReturned']);
    expect(trail[0]!.stream).toBe(`LEDGER_${county}`);
    expect(trail[0]!.leafHash).toMatch(/^[0-9a-f]{64}$/);
    expect(trail[0]!.actor.role).toBe('finance');
    const household = await entityTrail(rig.db, { partition: county, kind: 'household', id: 'H003' });
    expect(household.map((e) => `${e.type}:${(e.data as { paymentId: string }).paymentId}`)).toEqual([
      'PaymentInstructed:pay-3',
      'PaymentReturned:pay-3',
      'PaymentInstructed:pay-4',
      'PaymentSettled:pay-4',
    ]);
    const page = await entityTrail(rig.db, {
      partition: county,
      kind: 'household',
      id: 'H003',
      limit: 1,
      after: { stream: household[0]!.stream, seq: household[0]!.seq },
    });
    expect(page.map((e) => e.seq)).toEqual([household[1]!.seq]);
    await expect(
      entityTrail(rig.db, { partition: county, kind: 'household', id: 'H003', limit: 0 }),
    ).rejects.toThrow(RangeError);
  });

  it('reports spending progress for a ten-day period (旬) and for the year in one query each', async () => {
    const xun = await spendingProgress(rig.db, {
      partition: county,
      from: '2019-05-11',
      to: '2019-05-20',
      groupBy: [],
    });
    // Only the return of pay-3 on 05-13 falls in this 旬; pay-4 was instructed on 05-10's roster date.
    expect(xun).toEqual([{ key: {}, measures: { returned: 800_000n }, netPaidFen: -800_000n }]);
    const year = await spendingProgress(rig.db, {
      partition: county,
      from: '2019-01-01',
      to: '2019-12-31',
      groupBy: ['fund_source'],
    });
    expect(
      year.map((r) => [
        r.key.fund_source,
        r.measures.received,
        r.measures.earmarked ?? 0n,
        r.measures.disbursed ?? 0n,
        r.netPaidFen,
      ]),
    ).toEqual([
      ['central', 25_000_000n, 8_000_000n, 5_000_000n, 0n],
      ['province', 5_000_000n, 0n, 0n, 4_100_000n],
    ]);
    const villages = await spendingProgress(rig.db, {
      partition: county,
      from: '2019-01-01',
      to: '2019-12-31',
      groupBy: ['village'],
    });
    expect(villages.find((r) => r.key.village === village)?.measures.earmarked).toBe(8_000_000n);
    await expect(
      spendingProgress(rig.db, { partition: county, from: '2019-12-31', to: '2019-01-01', groupBy: [] }),
    ).rejects.toThrow(RangeError);
  });
});

describe('fundtrace check over the scenario', () => {
  it('finds nothing wrong with the projected books', async () => {
    const results = await checkBooks(rig.db);
    expect(results.map((r) => [r.name, r.violations])).toEqual([
      ['entries_balance', 0],
      ['no_negative_balance', 0],
      ['balances_equal_entries', 0],
      ['tranches_equal_entries', 0],
      ['flows_within_tranche', 0],
      ['payments_rooted', 0],
      ['allocations_received_within_issued', 0],
    ]);
  });

  it('names what a manual edit broke', async () => {
    const rollback = new Error('rollback');
    const results = await rig.db
      .transaction()
      .execute(async (trx) => {
        await trx
          .updateTable('tranches')
          .set({ remaining_fen: 950_000n })
          .where('tranche_id', '=', 'k-i2')
          .execute();
        await trx
          .deleteFrom('tranche_flows')
          .where('partition', '=', province)
          .where('child_id', '=', 'p-t1')
          .execute();
        await trx
          .updateTable('entries')
          .set({ amount_fen: 1n })
          .where('partition', '=', county)
          .where('movement_id', '=', 'pay-2')
          .where('side', '=', 'debit')
          .execute();
        const found = await checkBooks(trx);
        throw Object.assign(rollback, { found });
      })
      .catch((error: Error & { found?: Awaited<ReturnType<typeof checkBooks>> }) => {
        if (error !== rollback) throw error;
        return error.found!;
      });
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName.tranches_equal_entries!.examples).toEqual([
      '411325/k-i2: remaining 950000 of 5000000, entries 900000',
    ]);
    // p-t1 lost its parent edge: pay-3's path through it now ends at a tranche that is not a root.
    expect(byName.payments_rooted!.examples).toEqual(['411325/pay-3 ends at 410000/p-t1 (not a root)']);
    // pay-2's debit entries: the instruction's (@pending) and the settlement's (@households).
    expect(byName.entries_balance!.violations).toBe(2);
    expect(byName.flows_within_tranche!.violations).toBe(0);
  });
});
