import type { LedgerCommand } from '../src/ledger/commands';

/**
 * The county the size benchmarks generate: one pool, then per month a receipt,
 * a 低保 approval notice and rosters of at most 50,000 rows paying every
 * household (10 months of 100,000 households ≈ 1,000,000 ledger events).
 */
export function* countyScenario(households: number, periods: number): Generator<LedgerCommand> {
  yield { type: 'OpenAccount', data: { accountId: 'POOL', kind: 'pool', name: '专户' } };
  for (let p = 1; p <= periods; p++) {
    yield {
      type: 'ReceiveAllocation',
      data: {
        receiptId: `R${p}`,
        accountId: 'POOL',
        amountFen: BigInt(households) * 20_000n,
        origin: {
          kind: 'external',
          payer: '县财政',
          documentNumber: `内财${p}号`,
          fundSource: 'county',
          purpose: 'social_assistance',
          fiscalYear: 2024,
        },
      },
    };
    const period = `2024-${String(p).padStart(2, '0')}`;
    yield {
      type: 'PublishNotice',
      data: {
        noticeId: `N${p}`,
        kind: 'programme',
        title: '低保公示',
        stage: 'approval',
        programmeCode: 'dibao_class1',
        period,
        subjectId: null,
        startsOn: '2024-01-01',
        endsOn: '2024-01-07',
      },
    } as LedgerCommand;
    for (let from = 0; from < households; from += 50_000) {
      const rows = [];
      for (let i = from; i < Math.min(households, from + 50_000); i++)
        rows.push({ row: i + 2, householdId: `H${i}`, quantity: 1, amountFen: 19_000n, acceptanceRef: null });
      yield {
        type: 'SubmitRoster',
        data: {
          rosterId: `RS${p}-${from}`,
          programmeCode: 'dibao_class1',
          period,
          accountId: 'POOL',
          noticeId: `N${p}`,
          rows,
        },
      };
    }
  }
}
