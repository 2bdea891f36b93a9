import { formatYuan } from '@fundtrace/money';
import { factsOf } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import { type RejectionArgs, rejectionMessage, rejectionMessages } from '../src/ledger/rejection-messages';
import { type RejectionCode, reject, rejectionStatus } from '../src/ledger/rejections';
import { programmeUnits } from '../src/reference/programmes';
import { expectChinese } from './support';

/**
 * Every refusal the ledger answers is worded in Chinese for the finance officer (decision 0131).
 * The samples below give every code's facts, every variant of each (`case`): the type makes a code
 * without samples a compile error, and the walk below a test failure, so a code added without a
 * wording cannot pass unnoticed.
 */
const deceased = [{ memberNo: 3, diedOn: '2024-05-02' }];
const samples: { readonly [C in RejectionCode]: readonly RejectionArgs[C][] } = {
  account_not_found: [
    { role: 'issuing', accountId: 'POOL-A' },
    { role: 'receiving', accountId: 'POOL-A' },
    { role: 'integrating', accountId: 'POOL-A' },
    { role: 'project', accountId: 'PRJ-A' },
    { role: 'implementing_unit', accountId: 'UNIT-A' },
    { role: 'source', accountId: 'POOL-A' },
    { role: 'paying', accountId: 'POOL-A' },
  ],
  allocation_not_found: [{ partition: '410000', allocationId: 'AL-HN-7' }],
  plan_not_found: [{ planId: 'PLAN-2024' }, { planId: 'PLAN-2024', forProject: true }],
  plan_line_not_found: [{ planId: 'PLAN-2024', lineId: 'L9' }],
  project_not_found: [{ projectId: 'PRJ-ROAD' }],
  acceptance_not_found: [{ acceptanceId: 'ACC-1' }],
  payment_not_found: [{ paymentId: 'RS-A-r9' }],
  notice_not_found: [{ noticeId: 'N-DIBAO' }],
  objection_not_found: [{ objectionId: 'OBJ-1' }],
  movement_not_found: [
    { kind: 'receipt', movementId: 'RC-1' },
    { kind: 'integration', movementId: 'IG-1' },
    { kind: 'earmark', movementId: 'EM-1' },
    { kind: 'disbursement', movementId: 'DB-1' },
    { kind: 'payment', movementId: 'PAY-1' },
  ],
  tranche_not_found: [{ trancheId: 'rc-RC1-1' }],
  unknown_programme: [{ programmeCode: 'dibao_x' }, { programmeCode: 'dibao_x', version: 3 }],
  unknown_purpose: [{ purpose: 'roads_x', known: ['general', 'housing'] }],
  account_exists: [{ accountId: 'POOL-A' }],
  allocation_exists: [{ allocationId: 'AL-1' }],
  receipt_exists: [{ receiptId: 'RC-1' }],
  allocation_already_received: [{ partition: '410300', allocationId: 'AL-1' }],
  integration_exists: [{ integrationId: 'IG-1' }],
  plan_exists: [{ planId: 'PLAN-2024' }],
  project_exists: [{ projectId: 'PRJ-ROAD' }],
  acceptance_exists: [{ acceptanceId: 'ACC-1' }],
  earmark_exists: [{ earmarkId: 'EM-1' }],
  disbursement_exists: [{ disbursementId: 'DB-1' }],
  payment_exists: [{ paymentId: 'PAY-1' }],
  roster_exists: [{ rosterId: 'RS-A' }],
  notice_exists: [{ noticeId: 'N-DIBAO' }],
  objection_exists: [{ objectionId: 'OBJ-1' }],
  reversal_exists: [{ reversalId: 'RV-1' }],
  payment_not_in_flight: ['settled', 'returned', 'reversed'].map((status) => ({
    paymentId: 'PAY-1',
    status,
  })),
  bank_result_conflict: [
    {
      case: 'settled',
      paymentId: 'RS-A-r3',
      recorded: { bankReference: 'RCB-0003', settledOn: '2024-06-14' },
      given: { bankReference: 'RCB-0093', settledOn: '2024-06-14' },
    },
    {
      case: 'settled',
      paymentId: 'RS-A-r3',
      recorded: { bankReference: 'RCB-0003', settledOn: '2024-06-14' },
      given: { bankReference: 'RCB-0003', settledOn: '2024-06-15' },
    },
    {
      case: 'settled',
      paymentId: 'RS-A-r3',
      recorded: { bankReference: 'RCB-0003', settledOn: '2024-06-14' },
      given: { bankReference: 'RCB-0093', settledOn: '2024-06-15' },
    },
    { case: 'returned', paymentId: 'RS-A-r3', recordedOn: '2024-06-14', givenOn: '2024-06-13' },
  ],
  objection_already_resolved: [
    { objectionId: 'OBJ-1', outcome: 'upheld' },
    { objectionId: 'OBJ-1', outcome: 'dismissed' },
  ],
  notice_already_closed: [{ noticeId: 'N-DIBAO' }],
  movement_already_reversed: [{ kind: 'earmark', movementId: 'EM-1' }],
  fiscal_year_closed: [{ fiscalYear: 2023 }],
  idempotency_key_reused: [{ commandId: 'cmd-0193' }],
  insufficient_funds: [
    { case: 'tranche', trancheId: 'rc-RC1-1', leftFen: 100n, namedFen: 250_000n },
    {
      case: 'account',
      accountId: 'POOL-A',
      use: 'dibao_class1',
      availableFen: 9_900n,
      requestedFen: 12_345_678n,
    },
  ],
  purpose_not_allowed: [
    { case: 'tranche', trancheId: 'rc-RC1-1', purpose: 'housing', use: 'education' },
    {
      case: 'account',
      accountId: 'POOL-A',
      use: 'dibao_class1',
      balanceFen: 5_000_000n,
      allowedFen: 120_000n,
      requestedFen: 190_000n,
    },
  ],
  tranche_not_in_account: [{ trancheId: 'rc-RC1-1', accountId: 'POOL-B', named: 'POOL-A' }],
  too_many_tranches: [{ count: 301, max: 200 }],
  named_tranches_mismatch: [
    { case: 'twice', trancheId: 'rc-RC1-1' },
    { case: 'sum', namedFen: 100_000n, amountFen: 100_001n },
  ],
  account_kind_mismatch: [
    { case: 'kind', role: 'issuing', accountId: 'PRJ-A', kind: 'project', expected: 'pool' },
    {
      case: 'kind',
      role: 'implementing_unit',
      accountId: 'POOL-A',
      kind: 'pool',
      expected: 'implementing_unit',
    },
    { case: 'taken', accountId: 'PRJ-A', projectId: 'PRJ-ROAD' },
  ],
  allocation_to_self: [{ partition: '411325' }],
  fund_source_mismatch: [
    { fundSource: 'city', sources: ['central'] },
    { fundSource: 'county', sources: ['central', 'province'] },
  ],
  allocation_not_addressed_here: [
    { partition: '410300', allocationId: 'AL-1', to: '411221', here: '411325' },
  ],
  allocation_amount_mismatch: [{ allocationId: 'AL-1', issuedFen: 50_000_000n, receivedFen: 5_000_000n }],
  total_mismatch: [{ totalFen: 100_000n, linesSumFen: 99_999n }],
  duplicate_line: [
    { case: 'plan', lineId: 'L1' },
    { case: 'line_number', line: 4 },
    { case: 'household', householdId: 'H001' },
    { case: 'member', line: 7 },
  ],
  plan_line_exceeded: [
    { case: 'integration', planId: 'PLAN-2024', lineId: 'L1', roomFen: 100n, requestedFen: 300n },
    { case: 'project', planId: 'PLAN-2024', lineId: 'L1', roomFen: 100n, budgetFen: 300n },
    { case: 'adjust', planId: 'PLAN-2024', lineId: 'L1', roomFen: 100n, budgetFen: 300n },
  ],
  plan_below_commitments: [{ lineId: 'L1', usedFen: 7_700n }],
  project_budget_exceeded: [{ projectId: 'PRJ-ROAD', roomFen: 1_000n, requestedFen: 1_500n }],
  project_budget_below_earmarked: [{ projectId: 'PRJ-ROAD', earmarkedFen: 2_000_000n }],
  acceptance_required: [
    { case: 'project', projectId: 'PRJ-ROAD' },
    { case: 'programme', programme: '危房改造 C级' },
  ],
  acceptance_for_other_project: [{ acceptanceId: 'ACC-1', of: 'PRJ-WELL', projectId: 'PRJ-ROAD' }],
  household_not_registered: [{ householdId: 'H404', registrySeq: 42 }],
  household_exited: [{ householdId: 'H009' }],
  household_without_account: [{ householdId: 'NOCARD' }],
  member_deceased: [
    { case: 'all', householdId: 'EXTINCT', deceased },
    {
      case: 'persons',
      programme: '农村低保 一类',
      householdId: 'WIDOWED',
      persons: 3,
      livingMembers: 2,
      deceased,
    },
    { case: 'listed', line: 5, householdId: 'WIDOWED', deceased },
  ],
  duplicate_payment: [
    { householdId: 'H001', programmeCode: 'dibao_class1', period: '2024-06', paymentId: 'PAY-1' },
    { householdId: 'H001', programmeCode: 'dibao_class1', period: '2024-06', paymentId: null },
  ],
  above_standard: programmeUnits.map((unit) => ({
    programme: '农村低保 一类',
    unit,
    amountFen: 30_000n,
    standardFen: 19_000n,
    quantity: 1,
  })),
  below_standard: [
    {
      programme: '危房改造 (修缮加固)',
      unit: 'household',
      amountFen: 1n,
      standardFen: 800_000n,
      quantity: 1,
    },
  ],
  amount_above_limit: [{ amountFen: 250_000_000n, limitFen: 20_000_000n }],
  notice_required: [{ programmeCode: 'dibao_class1', stage: 'approval' }],
  notice_mismatch: [
    {
      case: 'payment',
      noticeId: 'N-DIBAO',
      stage: 'first_review',
      noticeProgramme: 'dibao_class1',
      noticePeriod: '2024-06',
      neededStage: 'approval',
      programmeCode: 'dibao_class1',
      period: '2024-07',
    },
    {
      case: 'payment',
      noticeId: 'N-ROAD',
      stage: 'first',
      noticeProgramme: null,
      noticePeriod: null,
      neededStage: 'approval',
      programmeCode: 'dibao_class1',
      period: '2024-07',
    },
    { case: 'stage', programme: '危房改造 (修缮加固)', chain: ['first', 'second', 'third'], stage: 'fourth' },
  ],
  notice_period_not_over: [
    { case: 'pay', noticeId: 'N-DIBAO', endsOn: '2024-06-20' },
    { case: 'close', noticeId: 'N-DIBAO', endsOn: '2024-06-20' },
  ],
  notice_period_too_short: [{ programme: '农村低保 一类', minDays: 7, days: 3 }],
  notice_period_invalid: [{ startsOn: '2024-06-10', endsOn: '2024-06-01' }],
  objection_open: [
    { case: 'notice', noticeId: 'N-DIBAO', count: 2 },
    { case: 'household', noticeId: 'N-DIBAO', householdId: 'H002' },
    { case: 'close', noticeId: 'N-DIBAO' },
  ],
  objection_upheld: [{ noticeId: 'N-DIBAO', householdId: 'H002' }],
  notice_closed: [{ noticeId: 'N-DIBAO' }],
  notice_lines_invalid: [
    { case: 'kind', noticeId: 'N-ROAD', kind: 'project', programmeCode: null },
    { case: 'kind', noticeId: 'N-ALLOC', kind: 'allocation', programmeCode: 'dibao_class1' },
    { case: 'lines', errorCount: 2, lineCount: 40 },
  ],
  not_on_notice: [
    { case: 'absent', noticeId: 'N-DIBAO', householdId: 'H003', listed: 12 },
    {
      case: 'amount',
      noticeId: 'N-DIBAO',
      line: 3,
      householdId: 'H003',
      listedFen: 19_000n,
      listedQuantity: 1,
      paymentFen: 38_000n,
      paymentQuantity: 2,
    },
  ],
  roster_rows_invalid: [
    { case: 'rows', errorCount: 3, rowCount: 5_000 },
    { case: 'malformed', badRows: 2, headIssues: [] },
    { case: 'malformed', badRows: 0, headIssues: ['rows：发放花名册至少需要一行'] },
  ],
  roster_row_duplicate: [{ row: 17 }],
  bank_results_invalid: [
    { case: 'rows', errorCount: 3, rowCount: 4_000 },
    { case: 'malformed', badRows: 1, headIssues: ['commandId: Invalid input'] },
  ],
  bank_row_mismatch: [
    { paymentId: 'RS-A-r3', household: { given: 'H009', payment: 'H003' }, amount: null },
    { paymentId: 'RS-A-r3', household: null, amount: { givenFen: 57_100n, paymentFen: 57_000n } },
    {
      paymentId: 'RS-A-r3',
      household: { given: 'H009', payment: 'H003' },
      amount: { givenFen: 57_100n, paymentFen: 57_000n },
    },
  ],
  bank_row_payment_twice: [{ paymentId: 'RS-A-r3', row: 2 }],
  row_number_duplicate: [{ row: 9 }],
  date_in_future: [{ date: '2030-01-01', today: '2026-11-23' }],
  movement_not_reversible: [
    { case: 'payment', paymentId: 'PAY-1', status: 'settled' },
    { case: 'receipt', receiptId: 'RC-2' },
  ],
  reversal_blocked_downstream: [
    { kind: 'receipt', movementId: 'RC-1', trancheId: 'rc-RC1-1', movedOnFen: 4_200n },
  ],
  payments_in_flight: [{ fiscalYear: 2024, count: 12 }],
};

/** Facts a message says in words of its own (a label), not as they are. */
const translated = new Set([
  'case',
  'role',
  'kind',
  'expected',
  'status',
  'outcome',
  'unit',
  'forProject',
  'fundSource',
  'sources',
  // Notice stages are named (审批公示, 第三榜); an unknown one is shown as its code.
  'stage',
  'neededStage',
  // Said only when there are any ("2 行有错误"); a body with only head problems says those.
  'badRows',
]);

/** The facts a message must show as they are: ids, numbers, dates, and money as 元. */
const shown = (args: object, skip: ReadonlySet<string> = translated) =>
  factsOf(args, { skip, bigint: (fen) => `${formatYuan(fen)} 元` });

const codes = Object.keys(rejectionStatus) as RejectionCode[];

describe('every refusal of the ledger has a Chinese message (0131)', () => {
  it('has a wording and samples for every RejectionCode, and nothing for a code that is not one', () => {
    const without = codes.filter((c) => typeof rejectionMessages[c] !== 'function' || !samples[c]?.length);
    expect(without).toEqual([]);
    expect(Object.keys(rejectionMessages).sort()).toEqual([...codes].sort());
  });

  it.each(codes)('%s: a Chinese sentence naming its ids, amounts in 元 and dates', (code) => {
    for (const args of samples[code]) {
      const message = rejectionMessage(code, args as never);
      expectChinese(message, shown(args, new Set()));
      for (const fact of shown(args)) expect(message, `${code} ${JSON.stringify(args, big)}`).toContain(fact);
      expect(message).toMatch(/[。]$/);
    }
  });

  it('words a refusal by its code whatever the call site: reject() and the catalogue agree', () => {
    const refusal = reject(
      'date_in_future',
      { date: '2030-01-01', today: '2026-11-23' },
      { date: '2030-01-01' },
    );
    expect(refusal).toEqual({
      ok: false,
      code: 'date_in_future',
      message: '银行回盘日期 2030-01-01 晚于今天（2026-11-23）；请核对到账或退回日期。',
      details: { date: '2030-01-01' },
    });
  });

  it('names fund sources and account kinds by their Chinese names, never by code', () => {
    const mixed = rejectionMessage('fund_source_mismatch', {
      fundSource: 'county',
      sources: ['central', 'province'],
    });
    expect(mixed).toContain('中央财政专项扶贫资金、省级财政专项扶贫资金');
    expect(mixed).toContain('县级财政专项扶贫资金');
    const kind = rejectionMessage('account_kind_mismatch', {
      case: 'kind',
      role: 'issuing',
      accountId: 'PRJ-A',
      kind: 'project',
      expected: 'pool',
    });
    expect(kind).toBe('下达资金的账户 PRJ-A 是项目账户，此处需要资金专户；请改用资金专户。');
  });
});

function big(_key: string, value: unknown) {
  return typeof value === 'bigint' ? `${value}n` : value;
}
