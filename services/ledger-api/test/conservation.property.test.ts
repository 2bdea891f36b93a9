import type { ledger } from '@fundtrace/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LedgerCommand } from '../src/ledger/commands';
import { decide } from '../src/ledger/decide';
import { evolve, type LedgerEventInput } from '../src/ledger/evolve';
import { initialState, type LedgerState } from '../src/ledger/state';
import { context, registryOf } from './support';

/**
 * Random command sequences over three partitions (central → province → county)
 * show the books' three promises:
 * 1. money is conserved: Σ balances + reserved + paid out, over all partitions,
 *    plus what is in transit (issued − received) = Σ root allocations received
 *    from outside;
 * 2. no tranche and no account ever goes negative;
 * 3. every payment's lineage, read from the events alone, reaches root
 *    allocations, and every tranche's parents sum to its amount.
 */

const central = '000000';
const province = '410000';
const countyCode = '411325';
const partitions = [central, province, countyCode] as const;
const purposes = ['general', 'social_assistance', 'housing', 'infrastructure'] as const;
const households = {
  H1: { exited: false, accountBound: true },
  H2: { exited: false, accountBound: true },
  H3: { exited: false, accountBound: true },
};

type Op =
  | { kind: 'root'; p: number; purpose: number; amount: bigint }
  | { kind: 'issue'; from: number; purpose: number; amount: bigint }
  | { kind: 'receive'; pick: number }
  | { kind: 'earmark'; amount: bigint }
  | { kind: 'disburse'; amount: bigint }
  | { kind: 'pay'; h: number; amount: bigint; period: number }
  | { kind: 'settle'; pick: number }
  | { kind: 'return'; pick: number }
  | { kind: 'reverse'; what: number; pick: number }
  | { kind: 'integrate'; pick: number; amount: bigint }
  | { kind: 'close'; year: number };

const amount = fc.bigInt({ min: 1n, max: 5_000_000n });
// Weighted so that money flows far enough down to be paid out; closing a year is rare, as in life.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('root' as const), p: fc.nat(2), purpose: fc.nat(3), amount }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('issue' as const),
      from: fc.nat(1),
      purpose: fc.nat(3),
      amount,
    }),
  },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('receive' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('earmark' as const), amount }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('disburse' as const), amount }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      h: fc.nat(2),
      amount: fc.bigInt({ min: 1n, max: 57_000n }),
      period: fc.nat(2),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('settle' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('return' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('reverse' as const), what: fc.nat(2), pick: fc.nat() }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('integrate' as const), pick: fc.nat(), amount }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('close' as const), year: fc.constantFrom(2023, 2024) }),
  },
);

class World {
  readonly books = new Map<string, LedgerState>(partitions.map((p) => [p, initialState(p)]));
  readonly log: Array<{ partition: string; event: LedgerEventInput }> = [];
  readonly issued = new Map<string, ledger.LedgerData<'AllocationIssued'>>();
  private n = 0;

  id(prefix: string): string {
    this.n += 1;
    return `${prefix}${this.n}`;
  }

  run(
    partition: string,
    command: LedgerCommand,
    issued?: ledger.LedgerData<'AllocationIssued'> | null,
  ): boolean {
    const state = this.books.get(partition)!;
    const before = snapshot(state);
    const decision = decide(state, command, context({ registry: registryOf(households), issued }));
    // A refusal changes nothing: decide only reads the state.
    expect(snapshot(state)).toEqual(before);
    if (!decision.ok) return false;
    for (const event of decision.events) {
      evolve(state, event);
      this.log.push({ partition, event });
      if (event.type === 'AllocationIssued')
        this.issued.set(`${partition}:${event.data.allocationId}`, event.data);
    }
    return true;
  }
}

function snapshot(s: LedgerState) {
  return { ...s.totals, events: [...s.eventCounts.values()].reduce((a, b) => a + b, 0) };
}

function setUp(world: World): void {
  for (const p of partitions) {
    world.run(p, { type: 'OpenAccount', data: { accountId: 'POOL', kind: 'pool', name: '专户' } });
  }
  const c = countyCode;
  world.run(c, { type: 'OpenAccount', data: { accountId: 'PRJ', kind: 'project', name: '项目' } });
  world.run(c, {
    type: 'OpenAccount',
    data: { accountId: 'UNIT', kind: 'implementing_unit', name: '实施单位' },
  });
  world.run(c, {
    type: 'ApprovePlan',
    data: {
      planId: 'PLAN',
      title: '方案',
      fiscalYear: 2024,
      documentNumber: '内政1号',
      totalFen: 200_000_000n,
      lines: [
        { lineId: 'L1', category: 'infrastructure', title: '基础设施', amountFen: 100_000_000n },
        { lineId: 'L2', category: 'social_assistance', title: '兜底', amountFen: 100_000_000n },
      ],
    },
  });
  world.run(c, {
    type: 'ApproveProject',
    data: {
      projectId: 'PJ',
      planId: 'PLAN',
      lineId: 'L1',
      name: '道路',
      villageCode: '411325100201',
      budgetFen: 100_000_000n,
      accountId: 'PRJ',
      implementingUnitAccountId: 'UNIT',
      reimbursement: false,
    },
  });
  for (const period of ['2024-06', '2024-07', '2024-08']) {
    world.run(c, {
      type: 'PublishNotice',
      data: {
        noticeId: `N${period}`,
        kind: 'programme',
        title: '低保公示',
        stage: 'approval',
        programmeCode: 'dibao_class1',
        period,
        subjectId: null,
        startsOn: '2024-06-01',
        endsOn: '2024-06-07',
      },
    });
  }
}

function pick<T>(items: T[], n: number): T | undefined {
  return items.length === 0 ? undefined : items[n % items.length];
}

function interpret(world: World, op: Op): void {
  const c = countyCode;
  const county = world.books.get(c)!;
  switch (op.kind) {
    case 'root': {
      const p = partitions[op.p]!;
      world.run(p, {
        type: 'ReceiveAllocation',
        data: {
          receiptId: world.id('R'),
          accountId: 'POOL',
          amountFen: op.amount,
          origin: {
            kind: 'external',
            payer: '财政',
            documentNumber: '财1号',
            fundSource: p === central ? 'central' : 'county',
            purpose: purposes[op.purpose]!,
            fiscalYear: 2024,
          },
        },
      });
      return;
    }
    case 'issue': {
      const from = partitions[op.from]!;
      const to = partitions[op.from + 1]!;
      world.run(from, {
        type: 'IssueAllocation',
        data: {
          allocationId: world.id('AL'),
          toPartition: to,
          fromAccountId: 'POOL',
          documentNumber: '财农1号',
          // Below central the pools mix central and county roots: 统筹整合 is the label that may.
          fundSource: op.from === 0 ? 'central' : 'integrated',
          purpose: purposes[op.purpose]!,
          fiscalYear: 2024,
          title: '下达',
          amountFen: op.amount,
        },
      });
      return;
    }
    case 'receive': {
      const key = pick([...world.issued.keys()], op.pick);
      if (!key) return;
      const [from, allocationId] = key.split(':') as [string, string];
      const issued = world.issued.get(key)!;
      world.run(
        issued.toPartition,
        {
          type: 'ReceiveAllocation',
          data: {
            receiptId: world.id('R'),
            accountId: 'POOL',
            amountFen: issued.amountFen,
            origin: { kind: 'partition', partition: from, allocationId },
          },
        },
        issued,
      );
      return;
    }
    case 'earmark':
      world.run(c, {
        type: 'EarmarkFunds',
        data: { earmarkId: world.id('E'), projectId: 'PJ', fromAccountId: 'POOL', amountFen: op.amount },
      });
      return;
    case 'disburse':
      world.run(c, {
        type: 'DisburseFunds',
        data: { disbursementId: world.id('D'), projectId: 'PJ', amountFen: op.amount, acceptanceId: null },
      });
      return;
    case 'pay': {
      const period = ['2024-06', '2024-07', '2024-08'][op.period]!;
      world.run(c, {
        type: 'InstructPayment',
        data: {
          paymentId: world.id('PAY'),
          householdId: `H${op.h + 1}`,
          programmeCode: 'dibao_class1',
          period,
          quantity: 3,
          amountFen: op.amount,
          accountId: 'POOL',
          noticeId: `N${period}`,
          acceptanceRef: null,
        },
      });
      return;
    }
    case 'settle':
    case 'return': {
      const p = pick(
        [...county.payments.values()].filter((x) => x.status === 'instructed'),
        op.pick,
      );
      if (!p) return;
      world.run(
        c,
        op.kind === 'settle'
          ? { type: 'SettlePayment', data: { paymentId: p.id, bankReference: 'B', settledOn: '2024-06-14' } }
          : { type: 'ReturnPayment', data: { paymentId: p.id, reason: '退回', returnedOn: '2024-06-14' } },
      );
      return;
    }
    case 'reverse': {
      const kind = (['earmark', 'payment', 'receipt'] as const)[op.what]!;
      const ids =
        kind === 'payment'
          ? [...county.payments.keys()]
          : [...county.movements.values()].filter((m) => m.kind === kind).map((m) => m.id);
      const id = pick(ids, op.pick);
      if (!id) return;
      world.run(c, {
        type: 'ReverseMovement',
        data: { reversalId: world.id('RV'), movementKind: kind, movementId: id, reason: '冲正' },
      });
      return;
    }
    case 'integrate': {
      const pool = county.accounts.get('POOL')!;
      const t = pick(
        pool.tranches.filter((x) => x.remainingFen > 0n),
        op.pick,
      );
      if (!t) return;
      const take = op.amount < t.remainingFen ? op.amount : t.remainingFen;
      world.run(c, {
        type: 'IntegrateFunds',
        data: {
          integrationId: world.id('IG'),
          planId: 'PLAN',
          lineId: 'L2',
          accountId: 'POOL',
          documentNumber: '整合1号',
          tranches: [{ trancheId: t.id, amountFen: take }],
        },
      });
      return;
    }
    case 'close':
      world.run(partitions[op.year % 3]!, { type: 'CloseFiscalYear', data: { fiscalYear: op.year } });
      return;
  }
}

function checkInvariants(world: World): void {
  let held = 0n;
  let roots = 0n;
  let issued = 0n;
  let received = 0n;
  for (const state of world.books.values()) {
    const t = state.totals;
    held += t.balanceFen + t.reservedFen + t.settledFen;
    roots += t.rootReceivedFen;
    issued += t.issuedFen;
    received += t.receivedFromPartitionsFen;
    let sum = 0n;
    for (const a of state.accounts.values()) {
      expect(a.balanceFen).toBeGreaterThanOrEqual(0n);
      let tranches = 0n;
      for (const tr of a.tranches) {
        expect(tr.remainingFen).toBeGreaterThanOrEqual(0n);
        expect(tr.remainingFen).toBeLessThanOrEqual(tr.amountFen);
        tranches += tr.remainingFen;
      }
      expect(tranches).toBe(a.balanceFen);
      sum += a.balanceFen;
    }
    expect(sum).toBe(t.balanceFen);
  }
  const inTransit = issued - received;
  expect(inTransit).toBeGreaterThanOrEqual(0n);
  expect(held + inTransit).toBe(roots);
}

/** Lineage from the events alone: the log, not the writer's state, must carry it. */
function checkLineage(world: World): void {
  const tranches = new Map<string, ledger.TrancheCredit & { root: boolean }>();
  for (const { partition, event } of world.log) {
    const created =
      event.type === 'AllocationReceived' ||
      event.type === 'FundsIntegrated' ||
      event.type === 'FundsEarmarked' ||
      event.type === 'FundsDisbursed' ||
      event.type === 'TranchesCarriedOver'
        ? event.data.created
        : [];
    const external = event.type === 'AllocationReceived' && event.data.origin.kind === 'external';
    for (const t of created) {
      expect(t.parents.length === 0).toBe(external);
      if (t.parents.length > 0) expect(t.parents.reduce((s, p) => s + p.amountFen, 0n)).toBe(t.amountFen);
      tranches.set(`${partition}:${t.trancheId}`, { ...t, root: external });
    }
  }
  const reachesRoot = (key: string, depth: number): boolean => {
    expect(depth).toBeLessThan(100);
    const t = tranches.get(key);
    expect(t, `tranche ${key} is named but never created`).toBeDefined();
    if (t!.root) return true;
    const [partition] = key.split(':') as [string];
    return t!.parents.every((p) => reachesRoot(`${p.partition ?? partition}:${p.trancheId}`, depth + 1));
  };
  for (const { partition, event } of world.log) {
    if (event.type !== 'PaymentInstructed') continue;
    expect(event.data.consumed.reduce((s, c) => s + c.amountFen, 0n)).toBe(event.data.amountFen);
    for (const c of event.data.consumed) expect(reachesRoot(`${partition}:${c.trancheId}`, 0)).toBe(true);
  }
}

describe('ledger properties over random command sequences', () => {
  it('conserves money, never goes negative, and every payment reaches a root allocation', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 150 }), (ops) => {
        const world = new World();
        setUp(world);
        for (const op of ops) {
          interpret(world, op);
          checkInvariants(world);
        }
        checkLineage(world);
        for (const { event } of world.log) seen.set(event.type, (seen.get(event.type) ?? 0) + 1);
      }),
      { numRuns: 100 },
    );
    // The random sequences really exercised the paths the properties are about.
    for (const type of [
      'AllocationIssued',
      'AllocationReceived',
      'FundsIntegrated',
      'FundsEarmarked',
      'FundsDisbursed',
      'PaymentInstructed',
      'PaymentSettled',
      'PaymentReturned',
      'MovementReversed',
      'TranchesCarriedOver',
    ]) {
      expect(seen.get(type) ?? 0, type).toBeGreaterThan(0);
    }
  });

  it('the properties are not vacuous: the generator reaches payments through three levels', () => {
    const world = new World();
    setUp(world);
    const ops: Op[] = [
      { kind: 'root', p: 0, purpose: 0, amount: 1_000_000n },
      { kind: 'issue', from: 0, purpose: 1, amount: 600_000n },
      { kind: 'receive', pick: 0 },
      { kind: 'issue', from: 1, purpose: 1, amount: 500_000n },
      { kind: 'receive', pick: 1 },
      { kind: 'pay', h: 0, amount: 57_000n, period: 0 },
      { kind: 'settle', pick: 0 },
    ];
    for (const op of ops) interpret(world, op);
    checkInvariants(world);
    checkLineage(world);
    expect(world.books.get(countyCode)!.totals.settledFen).toBe(57_000n);
    expect(world.log.filter((e) => e.event.type === 'PaymentInstructed')).toHaveLength(1);
  });
});
