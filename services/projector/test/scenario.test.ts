import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Projector } from '../src/runner';
import { openRig, projectUntil, type Rig } from './support/harness';
import { county, writeScenario } from './support/scenario';

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
