import type { ledger } from '@fundtrace/events';
import { afterAll, describe, expect, it } from 'vitest';
import { decideRosterRemainder, rosterPaymentId } from '../src/ledger/decide';
import { evolve, type LedgerEventInput } from '../src/ledger/evolve';
import { paymentAmountMaxFen } from '../src/ledger/limits';
import { type RejectionCode, rejectionStatus } from '../src/ledger/rejections';
import type { LedgerState } from '../src/ledger/state';
import { noticeLineCases } from './notice-lines.cases';
import {
  accepted,
  apply,
  context,
  county,
  defaultHouseholds,
  dibaoRoster,
  externalReceipt,
  given,
  householdsWithDeaths,
  notice,
  poolOpened,
  refused,
  refusedCodes,
  registryOf,
  rowErrors,
  when,
  yuan,
} from './support';

/**
 * Given / when / then for every ledger command, rule and rejection. The last
 * test checks that every rejection code of the closed union was shown refusing.
 */

type Issued = ledger.LedgerData<'AllocationIssued'>;

function fundedCounty(): LedgerState {
  return given([
    poolOpened,
    externalReceipt('A', yuan(100_000), 'general'),
    externalReceipt('B', yuan(50_000), 'housing'),
    { type: 'AccountOpened', data: { accountId: 'PRJ1', kind: 'project', name: '王庄村道路' } },
    { type: 'AccountOpened', data: { accountId: 'UNIT1', kind: 'implementing_unit', name: '县交通局' } },
  ]);
}

function withPlanAndProject(reimbursement = true): LedgerState {
  const s = fundedCounty();
  apply(s, {
    type: 'ApprovePlan',
    data: {
      planId: 'P2024',
      title: '2024年统筹整合实施方案',
      fiscalYear: 2024,
      documentNumber: '内政〔2024〕1号',
      totalFen: yuan(80_000),
      lines: [
        { lineId: 'L1', category: 'infrastructure', title: '村道', amountFen: yuan(60_000) },
        { lineId: 'L2', category: 'industry', title: '产业', amountFen: yuan(20_000) },
      ],
    },
  });
  apply(s, {
    type: 'ApproveProject',
    data: {
      projectId: 'PJ1',
      planId: 'P2024',
      lineId: 'L1',
      name: '王庄村道路硬化',
      villageCode: '411325100201',
      budgetFen: yuan(40_000),
      accountId: 'PRJ1',
      implementingUnitAccountId: 'UNIT1',
      reimbursement,
    },
  });
  return s;
}

function dibaoNotice(state: LedgerState, id = 'N1', endsOn = '2024-06-07') {
  for (const e of [notice(id, 'dibao_class1', '2024-06', 'approval', '2024-06-01', endsOn)]) {
    apply(state, { type: 'PublishNotice', data: { ...(e.data as ledger.LedgerData<'NoticePublished'>) } });
  }
}

function payment(overrides: Partial<{ [k: string]: unknown }> = {}) {
  return {
    type: 'InstructPayment' as const,
    data: {
      paymentId: 'PAY1',
      householdId: 'H001',
      programmeCode: 'dibao_class1',
      period: '2024-06',
      quantity: 3,
      amountFen: yuan(570),
      accountId: 'POOL',
      noticeId: 'N1',
      acceptanceRef: null,
      ...overrides,
    } as never,
  };
}

describe('OpenAccount', () => {
  it('opens a pool, then refuses the same id again', () => {
    const s = given([]);
    const events = accepted(
      when(s, { type: 'OpenAccount', data: { accountId: 'POOL', kind: 'pool', name: '专户' } }),
    );
    expect(events).toEqual([
      { type: 'AccountOpened', data: { accountId: 'POOL', kind: 'pool', name: '专户' } },
    ]);
    refused(
      when(given([poolOpened]), {
        type: 'OpenAccount',
        data: { accountId: 'POOL', kind: 'pool', name: 'x专户' },
      }),
      'account_exists',
    );
  });
});

describe('ReceiveAllocation', () => {
  it('books money from outside as one root tranche with no parents', () => {
    const s = given([poolOpened]);
    const [e] = accepted(
      when(s, {
        type: 'ReceiveAllocation',
        data: {
          receiptId: 'R1',
          accountId: 'POOL',
          amountFen: yuan(1_000),
          origin: {
            kind: 'external',
            payer: '县财政',
            documentNumber: '内财〔2024〕3号',
            fundSource: 'county',
            purpose: 'general',
            fiscalYear: 2024,
          },
        },
      }),
    );
    expect(e?.type).toBe('AllocationReceived');
    const d = e!.data as ledger.LedgerData<'AllocationReceived'>;
    expect(d.created).toHaveLength(1);
    expect(d.created[0]).toMatchObject({ trancheId: 'rc_R1_1', amountFen: yuan(1_000), parents: [] });
  });

  const issued: Issued = {
    allocationId: 'AL7',
    toPartition: county,
    fromAccountId: 'CITYPOOL',
    documentNumber: '洛财农〔2024〕7号',
    fundSource: 'central',
    purpose: 'general',
    fiscalYear: 2024,
    title: '中央财政专项扶贫资金',
    amountFen: yuan(300),
    consumed: [
      { trancheId: 'rc_X_1', amountFen: yuan(100), fundSource: 'central' },
      { trancheId: 'rc_Y_1', amountFen: yuan(200), fundSource: 'province' },
    ],
  };
  const receive = (amount = yuan(300), allocationId = 'AL7') => ({
    type: 'ReceiveAllocation' as const,
    data: {
      receiptId: 'R2',
      accountId: 'POOL',
      amountFen: amount,
      origin: { kind: 'partition' as const, partition: '410300', allocationId },
    },
  });

  it('from another partition creates one child per issuer tranche, keeping each fund source', () => {
    const [e] = accepted(when(given([poolOpened]), receive(), context({ issued })));
    const d = e!.data as ledger.LedgerData<'AllocationReceived'>;
    expect(d.created.map((t) => [t.fundSource, t.amountFen, t.parents])).toEqual([
      ['central', yuan(100), [{ partition: '410300', trancheId: 'rc_X_1', amountFen: yuan(100) }]],
      ['province', yuan(200), [{ partition: '410300', trancheId: 'rc_Y_1', amountFen: yuan(200) }]],
    ]);
    expect(d.documentNumber).toBe('洛财农〔2024〕7号');
  });

  it('refuses an allocation the issuer does not have', () => {
    refused(when(given([poolOpened]), receive(), context({ issued: null })), 'allocation_not_found');
  });
  it('refuses an allocation addressed to another partition', () => {
    refused(
      when(given([poolOpened]), receive(), context({ issued: { ...issued, toPartition: '411221' } })),
      'allocation_not_addressed_here',
    );
  });
  it('refuses a different amount, showing the difference', () => {
    const r = refused(
      when(given([poolOpened]), receive(yuan(299)), context({ issued })),
      'allocation_amount_mismatch',
    );
    expect(r.message).toContain('1.00 元');
  });
  it('refuses a second receipt of the same allocation', () => {
    const s = given([poolOpened]);
    apply(s, receive(), context({ issued }));
    const again = { ...receive(), data: { ...receive().data, receiptId: 'R3' } };
    refused(when(s, again, context({ issued })), 'allocation_already_received');
  });
  it('refuses a receipt id already booked and a non-pool account', () => {
    const s = given([poolOpened]);
    apply(s, receive(), context({ issued }));
    refused(when(s, receive(), context({ issued })), 'receipt_exists');
    const s2 = given([{ type: 'AccountOpened', data: { accountId: 'POOL', kind: 'project', name: '项目' } }]);
    refused(when(s2, receive(), context({ issued })), 'account_kind_mismatch');
    refused(when(given([]), receive(), context({ issued })), 'account_not_found');
  });
});

describe('IssueAllocation', () => {
  const issue = (overrides: Record<string, unknown> = {}) => ({
    type: 'IssueAllocation' as const,
    data: {
      allocationId: 'AL1',
      toPartition: '411221',
      fromAccountId: 'POOL',
      documentNumber: '财农〔2024〕1号',
      fundSource: 'county' as const,
      purpose: 'housing',
      fiscalYear: 2024,
      title: '危房改造补助',
      amountFen: yuan(120_000),
      ...overrides,
    } as never,
  });

  it('consumes FIFO among tranches whose purpose allows the use, naming each', () => {
    const s = fundedCounty();
    const [e] = accepted(when(s, issue()));
    expect((e!.data as Issued).consumed).toEqual([
      { trancheId: 'rc_A_1', amountFen: yuan(100_000), fundSource: 'county' },
      { trancheId: 'rc_B_1', amountFen: yuan(20_000), fundSource: 'county' },
    ]);
  });
  it('skips tranches whose purpose does not allow the use (专款专用)', () => {
    const [e] = accepted(when(fundedCounty(), issue({ purpose: 'infrastructure', amountFen: yuan(10) })));
    expect((e!.data as Issued).consumed[0]?.trancheId).toBe('rc_A_1');
    const s = given([poolOpened, externalReceipt('B', yuan(50_000), 'housing')]);
    const r = refused(
      when(s, issue({ purpose: 'infrastructure', amountFen: yuan(10) })),
      'purpose_not_allowed',
    );
    expect(r.details).toMatchObject({ availableForUseFen: '0', balanceFen: String(yuan(50_000)) });
  });
  it('refuses more than the account holds, admitting exactly all of it', () => {
    refused(when(fundedCounty(), issue({ amountFen: yuan(150_000) + 1n })), 'insufficient_funds');
    accepted(when(fundedCounty(), issue({ amountFen: yuan(150_000) })));
  });
  it('takes exactly the named tranches when the officer names them', () => {
    const s = fundedCounty();
    const [e] = accepted(
      when(s, issue({ amountFen: yuan(10), tranches: [{ trancheId: 'rc_B_1', amountFen: yuan(10) }] })),
    );
    expect((e!.data as Issued).consumed).toEqual([
      { trancheId: 'rc_B_1', amountFen: yuan(10), fundSource: 'county' },
    ]);
    refused(
      when(s, issue({ amountFen: yuan(11), tranches: [{ trancheId: 'rc_B_1', amountFen: yuan(10) }] })),
      'named_tranches_mismatch',
    );
    refused(
      when(s, issue({ amountFen: yuan(10), tranches: [{ trancheId: 'nope', amountFen: yuan(10) }] })),
      'tranche_not_found',
    );
    refused(
      when(
        s,
        issue({ amountFen: yuan(60_000), tranches: [{ trancheId: 'rc_B_1', amountFen: yuan(60_000) }] }),
      ),
      'insufficient_funds',
    );
    refused(
      when(
        s,
        issue({
          purpose: 'education',
          amountFen: yuan(1),
          tranches: [{ trancheId: 'rc_B_1', amountFen: yuan(1) }],
        }),
      ),
      'purpose_not_allowed',
    );
  });
  it('refuses a debit that would name more tranches than one event holds, admitting the limit', () => {
    const events: LedgerEventInput[] = [poolOpened];
    for (let i = 0; i < 1_001; i++) events.push(externalReceipt(`R${i}`, 1n));
    refused(when(given(events), issue({ amountFen: 1_001n })), 'too_many_tranches');
    accepted(when(given(events), issue({ amountFen: 1_000n })));
  });
  it('refuses a fund source (资金来源) other than the money drawn; 统筹整合 may stand for mixed money', () => {
    const s = fundedCounty(); // rc_A_1 and rc_B_1: county funds
    const city = refused(when(s, issue({ fundSource: 'city', amountFen: yuan(10) })), 'fund_source_mismatch');
    expect(city.message).toContain('请按县级财政专项扶贫资金下达');
    expect(city.details).toMatchObject({ fundSource: 'city', consumedSources: ['county'] });
    accepted(when(s, issue({ fundSource: 'county', amountFen: yuan(10) })));
    const central = (e: LedgerEventInput): LedgerEventInput => {
      const d = e.data as ledger.LedgerData<'AllocationReceived'>;
      const data = {
        ...d,
        fundSource: 'central' as const,
        created: d.created.map((c) => ({ ...c, fundSource: 'central' as const })),
      };
      return { type: 'AllocationReceived', data };
    };
    const m = given([
      poolOpened,
      externalReceipt('A', yuan(100_000), 'general'),
      externalReceipt('B', yuan(50_000), 'housing'),
      central(externalReceipt('C', yuan(30_000), 'housing')),
    ]);
    // FIFO takes county then central money: only 统筹整合 may name both.
    const mixed = refused(when(m, issue({ amountFen: yuan(150_001) })), 'fund_source_mismatch');
    expect(mixed.details).toMatchObject({
      consumedSources: ['county', 'central'],
      otherTranches: ['rc_C_1'],
    });
    accepted(when(m, issue({ fundSource: 'integrated', amountFen: yuan(150_001) })));
    // Naming central tranches only makes a central allocation; labelling them county is refused.
    const named = { amountFen: yuan(10), tranches: [{ trancheId: 'rc_C_1', amountFen: yuan(10) }] };
    accepted(when(m, issue({ fundSource: 'central', ...named })));
    refused(when(m, issue({ fundSource: 'county', ...named })), 'fund_source_mismatch');
  });
  it('refuses to self, twice, unknown purposes and closed years', () => {
    const s = fundedCounty();
    refused(when(s, issue({ toPartition: county })), 'allocation_to_self');
    refused(when(s, issue({ purpose: 'yachts' })), 'unknown_purpose');
    apply(s, issue({ amountFen: yuan(1) }));
    refused(when(s, issue({ amountFen: yuan(1) })), 'allocation_exists');
    apply(s, { type: 'CloseFiscalYear', data: { fiscalYear: 2023 } });
    refused(when(s, issue({ allocationId: 'AL2', fiscalYear: 2023 })), 'fiscal_year_closed');
  });
});

describe('plans and projects', () => {
  const plan = (totalFen: bigint) => ({
    type: 'ApprovePlan' as const,
    data: {
      planId: 'P1',
      title: '实施方案',
      fiscalYear: 2024,
      documentNumber: '内政〔2024〕2号',
      totalFen,
      lines: [
        { lineId: 'L1', category: 'infrastructure', title: '村道', amountFen: yuan(600) },
        { lineId: 'L2', category: 'industry', title: '产业', amountFen: yuan(400) },
      ],
    },
  });
  it('approves a plan whose total equals its lines, and refuses one that does not, showing the difference', () => {
    accepted(when(given([]), plan(yuan(1_000))));
    const r = refused(when(given([]), plan(yuan(1_001))), 'total_mismatch');
    expect(r.details).toMatchObject({ differenceFen: '100' });
    expect(r.message).toContain('1.00 元');
  });
  it('refuses duplicate lines, unknown categories and a second approval', () => {
    const dup = plan(yuan(1_200));
    dup.data.lines.push({ lineId: 'L1', category: 'industry', title: 'x', amountFen: yuan(200) });
    refused(when(given([]), dup), 'duplicate_line');
    const bad = plan(yuan(1_000));
    bad.data.lines[0]!.category = 'casino';
    refused(when(given([]), bad), 'unknown_purpose');
    const s = given([]);
    apply(s, plan(yuan(1_000)));
    refused(when(s, plan(yuan(1_000))), 'plan_exists');
  });

  it('approves a project within its plan line and refuses one above the room left', () => {
    const s = withPlanAndProject();
    const project = (projectId: string, accountId: string, budgetFen: bigint) => ({
      type: 'ApproveProject' as const,
      data: {
        projectId,
        planId: 'P2024',
        lineId: 'L1',
        name: '桥',
        villageCode: '411325100202',
        budgetFen,
        accountId,
        implementingUnitAccountId: 'UNIT1',
        reimbursement: false,
      },
    });
    apply(s, { type: 'OpenAccount', data: { accountId: 'PRJ2', kind: 'project', name: '桥' } });
    refused(when(s, project('PJ2', 'PRJ2', yuan(20_000) + 1n)), 'plan_line_exceeded');
    const [e] = accepted(when(s, project('PJ2', 'PRJ2', yuan(20_000))));
    expect((e!.data as ledger.LedgerData<'ProjectApproved'>).category).toBe('infrastructure');
    refused(when(s, project('PJ1', 'PRJ2', 1n)), 'project_exists');
    refused(when(s, project('PJ3', 'PRJ1', 1n)), 'account_kind_mismatch');
    refused(
      when(s, {
        ...project('PJ3', 'PRJ2', 1n),
        data: { ...project('PJ3', 'PRJ2', 1n).data, planId: 'NOPE' },
      }),
      'plan_not_found',
    );
    refused(
      when(s, { ...project('PJ3', 'PRJ2', 1n), data: { ...project('PJ3', 'PRJ2', 1n).data, lineId: 'L9' } }),
      'plan_line_not_found',
    );
  });

  it('adjusts a plan but never below what projects already carry', () => {
    const s = withPlanAndProject();
    const adjust = (l1: bigint) => ({
      type: 'AdjustPlan' as const,
      data: {
        planId: 'P2024',
        documentNumber: '内政〔2024〕9号',
        reason: '调整',
        totalFen: l1 + yuan(20_000),
        lines: [
          { lineId: 'L1', category: 'infrastructure', title: '村道', amountFen: l1 },
          { lineId: 'L2', category: 'industry', title: '产业', amountFen: yuan(20_000) },
        ],
      },
    });
    accepted(when(s, adjust(yuan(40_000))));
    refused(when(s, adjust(yuan(40_000) - 1n)), 'plan_below_commitments');
    refused(
      when(s, { ...adjust(yuan(40_000)), data: { ...adjust(yuan(40_000)).data, planId: 'X' } }),
      'plan_not_found',
    );
    refused(
      when(s, { ...adjust(yuan(40_000)), data: { ...adjust(yuan(40_000)).data, totalFen: 1n } }),
      'total_mismatch',
    );
  });

  it('adjusts a project budget within its line and not below its earmarks', () => {
    const s = withPlanAndProject();
    const adjust = (budgetFen: bigint, unit = 'UNIT1') => ({
      type: 'AdjustProject' as const,
      data: { projectId: 'PJ1', budgetFen, implementingUnitAccountId: unit, reason: '增加预算' },
    });
    accepted(when(s, adjust(yuan(60_000))));
    refused(when(s, adjust(yuan(60_000) + 1n)), 'plan_line_exceeded');
    refused(when(s, adjust(yuan(1), 'POOL')), 'account_kind_mismatch');
    apply(s, {
      type: 'EarmarkFunds',
      data: { earmarkId: 'E1', projectId: 'PJ1', fromAccountId: 'POOL', amountFen: yuan(30_000) },
    });
    refused(when(s, adjust(yuan(30_000) - 1n)), 'project_budget_below_earmarked');
    refused(
      when(s, { ...adjust(yuan(1)), data: { ...adjust(yuan(1)).data, projectId: 'NOPE' } }),
      'project_not_found',
    );
  });
});

describe('IntegrateFunds', () => {
  const integrate = (amount: bigint, tranche = 'rc_B_1', lineId = 'L2') => ({
    type: 'IntegrateFunds' as const,
    data: {
      integrationId: 'IG1',
      planId: 'P2024',
      lineId,
      accountId: 'POOL',
      documentNumber: '内政〔2024〕5号',
      tranches: [{ trancheId: tranche, amountFen: amount }],
    },
  });
  it('re-purposes the named tranches to the plan line category, naming parents', () => {
    const s = withPlanAndProject();
    const [e] = accepted(when(s, integrate(yuan(5_000))));
    const d = e!.data as ledger.LedgerData<'FundsIntegrated'>;
    expect(d.purpose).toBe('industry');
    expect(d.created[0]).toMatchObject({
      purpose: 'industry',
      amountFen: yuan(5_000),
      parents: [{ partition: null, trancheId: 'rc_B_1', amountFen: yuan(5_000) }],
    });
  });
  it('refuses more than the plan line allows, and unknown plans and lines', () => {
    const s = withPlanAndProject();
    refused(when(s, integrate(yuan(20_000) + 1n)), 'plan_line_exceeded');
    refused(when(s, integrate(yuan(1), 'rc_B_1', 'L7')), 'plan_line_not_found');
    refused(when(s, { ...integrate(1n), data: { ...integrate(1n).data, planId: 'P0' } }), 'plan_not_found');
    apply(s, integrate(yuan(1)));
    refused(when(s, integrate(yuan(1))), 'integration_exists');
  });
  it('refuses tranches of another account', () => {
    const s = withPlanAndProject();
    apply(s, {
      type: 'EarmarkFunds',
      data: { earmarkId: 'E1', projectId: 'PJ1', fromAccountId: 'POOL', amountFen: yuan(1) },
    });
    refused(when(s, integrate(yuan(1), 'em_E1_1')), 'tranche_not_in_account');
  });
});

describe('EarmarkFunds and DisburseFunds', () => {
  const earmark = (amountFen: bigint, earmarkId = 'E1') => ({
    type: 'EarmarkFunds' as const,
    data: { earmarkId, projectId: 'PJ1', fromAccountId: 'POOL', amountFen },
  });
  const disburse = (amountFen: bigint, acceptanceId: string | null, disbursementId = 'D1') => ({
    type: 'DisburseFunds' as const,
    data: { disbursementId, projectId: 'PJ1', amountFen, acceptanceId },
  });
  it('earmarks within the project budget with purpose allowed, creating project tranches', () => {
    const s = withPlanAndProject();
    const [e] = accepted(when(s, earmark(yuan(40_000))));
    const d = e!.data as ledger.LedgerData<'FundsEarmarked'>;
    expect(d.toAccountId).toBe('PRJ1');
    expect(d.created.every((t) => t.accountId === 'PRJ1' && t.purpose === 'infrastructure')).toBe(true);
    refused(when(s, earmark(yuan(40_000) + 1n)), 'project_budget_exceeded');
    apply(s, earmark(yuan(1)));
    refused(when(s, earmark(yuan(1))), 'earmark_exists');
    refused(
      when(s, { ...earmark(1n, 'E2'), data: { ...earmark(1n, 'E2').data, projectId: 'NOPE' } }),
      'project_not_found',
    );
  });
  it('under 报账制 disburses only with an acceptance of this project', () => {
    const s = withPlanAndProject(true);
    apply(s, earmark(yuan(10_000)));
    refused(when(s, disburse(yuan(5_000), null)), 'acceptance_required');
    refused(when(s, disburse(yuan(5_000), 'ACC9')), 'acceptance_not_found');
    apply(s, {
      type: 'RecordAcceptance',
      data: {
        acceptanceId: 'ACC1',
        projectId: 'PJ1',
        documentNumber: '验收〔2024〕1号',
        acceptedOn: '2024-06-01',
        inspectedBy: '县扶贫办',
      },
    });
    const [e] = accepted(when(s, disburse(yuan(5_000), 'ACC1')));
    expect((e!.data as ledger.LedgerData<'FundsDisbursed'>).toAccountId).toBe('UNIT1');
    refused(when(s, disburse(yuan(10_000) + 1n, 'ACC1')), 'insufficient_funds');
    apply(s, disburse(yuan(5_000), 'ACC1'));
    refused(when(s, disburse(yuan(1), 'ACC1')), 'disbursement_exists');
  });
  it('without 报账制 disburses without acceptance, but not with one of another project', () => {
    const s = withPlanAndProject(false);
    apply(s, earmark(yuan(10_000)));
    accepted(when(s, disburse(yuan(5_000), null)));
    apply(s, { type: 'OpenAccount', data: { accountId: 'PRJ2', kind: 'project', name: '桥' } });
    apply(s, {
      type: 'ApproveProject',
      data: {
        projectId: 'PJ2',
        planId: 'P2024',
        lineId: 'L2',
        name: '食用菌大棚',
        villageCode: '411325100202',
        budgetFen: yuan(1_000),
        accountId: 'PRJ2',
        implementingUnitAccountId: 'UNIT1',
        reimbursement: false,
      },
    });
    apply(s, {
      type: 'RecordAcceptance',
      data: {
        acceptanceId: 'ACC2',
        projectId: 'PJ2',
        documentNumber: '验收2',
        acceptedOn: '2024-06-01',
        inspectedBy: '乡镇',
      },
    });
    refused(when(s, disburse(yuan(1), 'ACC2')), 'acceptance_for_other_project');
    refused(
      when(s, {
        type: 'RecordAcceptance',
        data: {
          acceptanceId: 'ACC2',
          projectId: 'PJ2',
          documentNumber: '验收2',
          acceptedOn: '2024-06-01',
          inspectedBy: '乡镇',
        },
      }),
      'acceptance_exists',
    );
    refused(
      when(s, {
        type: 'RecordAcceptance',
        data: {
          acceptanceId: 'ACC3',
          projectId: 'PJX',
          documentNumber: '验收3',
          acceptedOn: '2024-06-01',
          inspectedBy: '乡镇',
        },
      }),
      'project_not_found',
    );
  });
});

describe('InstructPayment', () => {
  function ready(): LedgerState {
    const s = fundedCounty();
    dibaoNotice(s);
    return s;
  }
  it('admits a payment within the standard after the notice period, recording the registry sequence', () => {
    const [e] = accepted(when(ready(), payment()));
    const d = e!.data as ledger.LedgerData<'PaymentInstructed'>;
    expect(d.registrySeq).toBe(42);
    expect(d.consumed).toEqual([{ trancheId: 'rc_A_1', amountFen: yuan(570) }]);
  });
  it('refuses above programme standard × quantity (超标准) and admits exactly the cap', () => {
    accepted(when(ready(), payment({ amountFen: yuan(190) * 3n })));
    const r = refused(when(ready(), payment({ amountFen: yuan(190) * 3n + 1n })), 'above_standard');
    expect(r.details).toMatchObject({ capFen: String(yuan(570)) });
  });
  it('refuses below a minimum standard', () => {
    const s = fundedCounty();
    apply(s, { type: 'PublishNotice', data: notice('NPV', 'pv_income', '2024', 'approval').data as never });
    refused(
      when(
        s,
        payment({
          programmeCode: 'pv_income',
          period: '2024',
          quantity: 1,
          amountFen: yuan(2_999),
          noticeId: 'NPV',
        }),
      ),
      'below_standard',
    );
    accepted(
      when(
        s,
        payment({
          programmeCode: 'pv_income',
          period: '2024',
          quantity: 1,
          amountFen: yuan(3_000),
          noticeId: 'NPV',
        }),
      ),
    );
  });
  it('refuses amounts above the named limit', () => {
    const s = fundedCounty();
    const r = refused(
      when(
        s,
        payment({
          programmeCode: 'pv_income',
          period: '2024',
          quantity: 1,
          amountFen: paymentAmountMaxFen + 1n,
          noticeId: null,
        }),
      ),
      'notice_required',
    );
    expect(r.details).toMatchObject({ stage: 'approval' });
    apply(s, { type: 'PublishNotice', data: notice('NPV', 'pv_income', '2024', 'approval').data as never });
    refused(
      when(
        s,
        payment({
          programmeCode: 'pv_income',
          period: '2024',
          quantity: 1,
          amountFen: paymentAmountMaxFen + 1n,
          noticeId: 'NPV',
        }),
      ),
      'amount_above_limit',
    );
  });
  it('refuses households not registered, exited, or without 一卡通', () => {
    refused(when(ready(), payment({ householdId: 'H999' })), 'household_not_registered');
    refused(when(ready(), payment({ householdId: 'EXITED' })), 'household_exited');
    refused(when(ready(), payment({ householdId: 'NOCARD' })), 'household_without_account');
  });
  describe('members recorded dead (MemberDeceased; decision 0032)', () => {
    const ctx = context({ registry: registryOf(householdsWithDeaths) });
    it('refuses a per-person payment for more persons than are alive, naming the dead member', () => {
      const r = refused(
        when(ready(), payment({ householdId: 'WIDOWED', quantity: 3, amountFen: yuan(570) }), ctx),
        'member_deceased',
      );
      expect(r.details).toMatchObject({ persons: 3, livingMembers: 2 });
      expect(r.message).toContain('在世成员只有 2 人（第 3 号成员于 2024-05-02 死亡）');
    });
    it('admits the living members of that household, and households with no death recorded', () => {
      accepted(when(ready(), payment({ householdId: 'WIDOWED', quantity: 2, amountFen: yuan(380) }), ctx));
      accepted(when(ready(), payment({ householdId: 'H001', quantity: 3, amountFen: yuan(570) }), ctx));
    });
    it('counts person-months over the period: a quarter for two living persons is 6, not 9', () => {
      const s = fundedCounty();
      apply(s, {
        type: 'PublishNotice',
        data: notice('NQ', 'disability_allowance', '2024-Q2', 'approval').data as never,
      });
      const quarter = (quantity: number) =>
        payment({
          householdId: 'WIDOWED',
          programmeCode: 'disability_allowance',
          period: '2024-Q2',
          quantity,
          amountFen: yuan(60) * BigInt(quantity),
          noticeId: 'NQ',
        });
      accepted(when(s, quarter(6), ctx));
      refused(when(s, quarter(9), ctx), 'member_deceased');
    });
    it('refuses any payment to a household whose every member is dead, also one paid per household', () => {
      const insurance = payment({
        householdId: 'EXTINCT',
        programmeCode: 'insurance_premium',
        period: '2025',
        quantity: 1,
        amountFen: yuan(180),
        noticeId: null,
      });
      const r = refused(when(fundedCounty(), insurance, ctx), 'member_deceased');
      expect(r.message).toContain('户 EXTINCT 的成员均已登记死亡');
      const s = fundedCounty();
      apply(s, { type: 'PublishNotice', data: notice('NPV', 'pv_income', '2024', 'approval').data as never });
      const pv = (householdId: string) =>
        payment({
          householdId,
          programmeCode: 'pv_income',
          period: '2024',
          quantity: 1,
          amountFen: yuan(3_000),
          noticeId: 'NPV',
        });
      refused(when(s, pv('EXTINCT'), ctx), 'member_deceased');
      // Per household, one living member is enough.
      accepted(when(s, pv('WIDOWED'), ctx));
    });
  });
  it('refuses a duplicate (same household, programme, period) but admits another period', () => {
    const s = ready();
    apply(s, payment());
    refused(when(s, payment({ paymentId: 'PAY2' })), 'duplicate_payment');
    refused(when(s, payment()), 'payment_exists');
    apply(s, {
      type: 'PublishNotice',
      data: notice('N7', 'dibao_class1', '2024-07', 'approval').data as never,
    });
    accepted(when(s, payment({ paymentId: 'PAY2', period: '2024-07', noticeId: 'N7' })));
  });
  it('admits a repeat after the first payment was returned', () => {
    const s = ready();
    apply(s, payment());
    apply(s, {
      type: 'ReturnPayment',
      data: { paymentId: 'PAY1', reason: '账户冻结', returnedOn: '2024-06-14' },
    });
    accepted(when(s, payment({ paymentId: 'PAY2' })));
  });
  it('refuses before the notice period has ended; admits the day after', () => {
    refused(when(ready(), payment(), context({ today: '2024-06-07' })), 'notice_period_not_over');
    accepted(when(ready(), payment(), context({ today: '2024-06-08' })));
  });
  it('refuses without a notice, with an unknown one, or one of another programme, period or stage', () => {
    refused(when(ready(), payment({ noticeId: null })), 'notice_required');
    refused(when(ready(), payment({ noticeId: 'NX' })), 'notice_not_found');
    const s = ready();
    apply(s, {
      type: 'PublishNotice',
      data: notice('NFIRST', 'dibao_class1', '2024-06', 'first_review').data as never,
    });
    refused(when(s, payment({ noticeId: 'NFIRST' })), 'notice_mismatch');
    refused(when(s, payment({ period: '2024-05' })), 'notice_mismatch');
  });
  it('refuses while an objection is open (whole notice or this household), and after one is upheld', () => {
    const s = ready();
    const file = (objectionId: string, householdId: string | null) => ({
      type: 'FileObjection' as const,
      data: {
        objectionId,
        noticeId: 'N1',
        householdId,
        summary: '收入超标',
        channel: 'notice_board' as const,
        filedOn: '2024-06-03',
      },
    });
    apply(s, file('O1', 'H001'));
    refused(when(s, payment()), 'objection_open');
    accepted(when(s, payment({ paymentId: 'PAY2', householdId: 'H002' })));
    apply(s, {
      type: 'ResolveObjection',
      data: { objectionId: 'O1', outcome: 'upheld', note: '核实收入超标' },
    });
    refused(when(s, payment()), 'objection_upheld');
    apply(s, file('O2', null));
    refused(when(s, payment({ paymentId: 'PAY2', householdId: 'H002' })), 'objection_open');
    apply(s, { type: 'ResolveObjection', data: { objectionId: 'O2', outcome: 'dismissed', note: '不实' } });
    accepted(when(s, payment({ paymentId: 'PAY2', householdId: 'H002' })));
  });
  it('refuses programmes needing acceptance without an acceptance document', () => {
    const s = fundedCounty();
    for (const stage of ['township', 'county']) {
      apply(s, {
        type: 'PublishNotice',
        data: notice(`NH-${stage}`, 'housing_grade_c', '2024', stage).data as never,
      });
    }
    const base = {
      programmeCode: 'housing_grade_c',
      period: '2024',
      quantity: 1,
      amountFen: yuan(10_000),
      noticeId: 'NH-county',
    };
    refused(when(s, payment(base)), 'acceptance_required');
    const [e] = accepted(when(s, payment({ ...base, acceptanceRef: '验收〔2024〕8号' })));
    // housing money: the general tranche comes first in FIFO, and both purposes may pay 危房改造.
    expect((e!.data as ledger.LedgerData<'PaymentInstructed'>).consumed[0]?.trancheId).toBe('rc_A_1');
  });
  it('refuses unknown programmes, non-pool accounts, and money of the wrong purpose', () => {
    refused(when(ready(), payment({ programmeCode: 'lottery' })), 'unknown_programme');
    refused(when(ready(), payment({ accountId: 'PRJ1' })), 'account_kind_mismatch');
    const s = given([poolOpened, externalReceipt('B', yuan(50_000), 'housing')]);
    dibaoNotice(s);
    refused(when(s, payment()), 'purpose_not_allowed');
  });
  it('refuses when the allowed money is short', () => {
    const s = given([poolOpened, externalReceipt('A', yuan(100), 'social_assistance')]);
    dibaoNotice(s);
    const r = refused(when(s, payment()), 'insufficient_funds');
    expect(r.details).toMatchObject({ shortfallFen: String(yuan(470)) });
  });
});

describe('SubmitRoster', () => {
  function roster(
    rows: Array<{ row: number; householdId: string; amountFen?: bigint; quantity?: number }>,
    rosterId = 'RS1',
  ) {
    return dibaoRoster(rosterId, rows, { quantity: 2, amountFen: yuan(380) });
  }
  function ready() {
    const s = fundedCounty();
    dibaoNotice(s);
    return s;
  }
  it('emits RosterSubmitted then one PaymentInstructed per row, each naming its tranches', () => {
    const s = given([
      poolOpened,
      externalReceipt('A', yuan(500), 'general'),
      externalReceipt('B', yuan(700), 'social_assistance'),
    ]);
    dibaoNotice(s);
    const events = accepted(
      when(
        s,
        roster([
          { row: 2, householdId: 'H001' },
          { row: 3, householdId: 'H002' },
          { row: 4, householdId: 'H003' },
        ]),
      ),
    );
    expect(events.map((e) => e.type)).toEqual([
      'RosterSubmitted',
      'PaymentInstructed',
      'PaymentInstructed',
      'PaymentInstructed',
    ]);
    expect((events[0]!.data as ledger.LedgerData<'RosterSubmitted'>).totalFen).toBe(yuan(1_140));
    const consumed = events.slice(1).map((e) => (e.data as ledger.LedgerData<'PaymentInstructed'>).consumed);
    // Row 3 straddles the two tranches: the later rows see what the earlier rows took.
    expect(consumed).toEqual([
      [{ trancheId: 'rc_A_1', amountFen: yuan(380) }],
      [
        { trancheId: 'rc_A_1', amountFen: yuan(120) },
        { trancheId: 'rc_B_1', amountFen: yuan(260) },
      ],
      [{ trancheId: 'rc_B_1', amountFen: yuan(380) }],
    ]);
    expect((events[1]!.data as ledger.LedgerData<'PaymentInstructed'>).paymentId).toBe(
      rosterPaymentId('RS1', 2),
    );
  });
  it('validates the whole roster first and lists every bad row with its number and reason', () => {
    const r = refused(
      when(
        ready(),
        roster([
          { row: 2, householdId: 'H001' },
          { row: 3, householdId: 'H999' },
          { row: 4, householdId: 'H001' },
          { row: 5, householdId: 'H002', amountFen: yuan(10_000) },
          { row: 5, householdId: 'H003' },
        ]),
      ),
      'roster_rows_invalid',
    );
    const errors = rowErrors(r);
    expect(errors.map((e) => [e.row, e.code])).toEqual([
      [3, 'household_not_registered'],
      [4, 'duplicate_payment'],
      [5, 'above_standard'],
      [5, 'roster_row_duplicate'],
    ]);
  });
  it('names who is paid before how much: an unregistered household, and a household paid twice in one file even when its first row was refused', () => {
    const r = refused(
      when(
        ready(),
        roster([
          { row: 2, householdId: 'H001', amountFen: yuan(10_000) },
          { row: 3, householdId: 'H999', amountFen: yuan(10_000) },
          { row: 4, householdId: 'H001' },
          { row: 5, householdId: 'H002' },
        ]),
      ),
      'roster_rows_invalid',
    );
    expect(rowErrors(r).map((e) => [e.row, e.code])).toEqual([
      [2, 'above_standard'],
      [3, 'household_not_registered'],
      [4, 'duplicate_payment'],
    ]);
  });
  it('refuses a roster the account cannot cover with one shortfall, not one error per row', () => {
    const s = given([poolOpened, externalReceipt('A', yuan(500), 'social_assistance')]);
    dibaoNotice(s);
    const r = refused(
      when(
        s,
        roster([
          { row: 2, householdId: 'H001' },
          { row: 3, householdId: 'H002' },
        ]),
      ),
      'insufficient_funds',
    );
    expect(r.details).toMatchObject({ requestedFen: String(yuan(760)), shortfallFen: String(yuan(260)) });
  });
  it('refuses a roster id used before, and a row whose derived payment id exists', () => {
    const s = ready();
    apply(s, roster([{ row: 2, householdId: 'H001' }]));
    refused(when(s, roster([{ row: 2, householdId: 'H002' }])), 'roster_exists');
    apply(s, payment({ paymentId: 'RS2-r2', householdId: 'H002' }));
    const r = refused(when(s, roster([{ row: 2, householdId: 'H003' }], 'RS2')), 'roster_rows_invalid');
    expect(rowErrors(r)[0]?.code).toBe('payment_exists');
  });
  it('after a cut-short append, decides only the rows not yet stored, against the new state', () => {
    const s = ready();
    const full = roster([
      { row: 2, householdId: 'H001' },
      { row: 3, householdId: 'H002' },
      { row: 4, householdId: 'H003' },
    ]);
    const events = accepted(when(s, full));
    // The stored prefix: RosterSubmitted and row 2.
    for (const e of events.slice(0, 2)) evolve(s, e);
    const rest = accepted(decideRosterRemainder(s, full.data, context()));
    expect(rest.map((e) => [e.type, (e.data as ledger.LedgerData<'PaymentInstructed'>).row])).toEqual([
      ['PaymentInstructed', 3],
      ['PaymentInstructed', 4],
    ]);
    // Meanwhile another instance paid H003: that row is now refused, and the answer lists it.
    apply(s, payment({ paymentId: 'OTHER', householdId: 'H003' }));
    const refusedRest = refused(decideRosterRemainder(s, full.data, context()), 'roster_rows_invalid');
    expect(rowErrors(refusedRest).map((e) => e.row)).toEqual([4]);
  });
  it('handles a 50,000-row roster in one decision, conserving every fen', () => {
    const households: Record<string, { exited: boolean; accountBound: boolean }> = {};
    const rows = [];
    for (let i = 0; i < 50_000; i++) {
      households[`H${i}`] = { exited: false, accountBound: true };
      rows.push({ row: i + 2, householdId: `H${i}`, amountFen: yuan(190), quantity: 1 });
    }
    const s = given([
      poolOpened,
      externalReceipt('A', yuan(5_000_000), 'social_assistance'),
      externalReceipt('B', yuan(5_000_000), 'general'),
    ]);
    dibaoNotice(s);
    const events = accepted(when(s, roster(rows), context({ registry: registryOf(households) })));
    expect(events).toHaveLength(50_001);
    let sum = 0n;
    for (const e of events.slice(1))
      for (const c of (e.data as ledger.LedgerData<'PaymentInstructed'>).consumed) sum += c.amountFen;
    expect(sum).toBe(yuan(190) * 50_000n);
  });
});

describe('SettlePayment, ReturnPayment', () => {
  function paid() {
    const s = fundedCounty();
    dibaoNotice(s);
    apply(s, payment());
    return s;
  }
  const settle = (bankReference = 'ABC123', settledOn = '2024-06-14', paymentId = 'PAY1') => ({
    type: 'SettlePayment' as const,
    data: { paymentId, bankReference, settledOn },
  });
  const giveBack = (returnedOn = '2024-06-14', reason = '户名不符') => ({
    type: 'ReturnPayment' as const,
    data: { paymentId: 'PAY1', reason, returnedOn },
  });
  it('settles an instructed payment once; the same settlement again records nothing', () => {
    const s = paid();
    accepted(when(s, settle()));
    apply(s, settle());
    expect(s.payments.get('PAY1')).toMatchObject({ bankReference: 'ABC123', resultOn: '2024-06-14' });
    // Keyed again by hand (another command id): what is recorded agrees, so no event (0134).
    expect(accepted(when(s, settle()))).toEqual([]);
    refused(when(s, settle('ABC123', '2024-06-14', 'NOPE')), 'payment_not_found');
    expect(s.totals.settledFen).toBe(yuan(570));
    expect(s.totals.reservedFen).toBe(0n);
  });
  it('refuses a settlement that contradicts the one recorded: another 银行流水号 or date (0134)', () => {
    const s = paid();
    apply(s, settle());
    const reference = refused(when(s, settle('ABC124')), 'bank_result_conflict');
    expect(reference.message).toBe(
      '补贴发放 PAY1 已登记到账（银行流水号 ABC123，到账日期 2024-06-14），本次却是银行流水号 ABC124，到账日期 2024-06-14，银行流水号不符：同一笔发放出现了两个不同的到账结果（重复入账、回盘文件有误或录入错误）；已登记的结果未改动，请与银行核对该笔发放。',
    );
    expect(reference.details).toEqual({
      paymentId: 'PAY1',
      recorded: { bankReference: 'ABC123', settledOn: '2024-06-14' },
      given: { bankReference: 'ABC124', settledOn: '2024-06-14' },
    });
    expect(refused(when(s, settle('ABC123', '2024-06-13')), 'bank_result_conflict').message).toContain(
      '本次却是银行流水号 ABC123，到账日期 2024-06-13，到账日期不符',
    );
    expect(refused(when(s, settle('X9', '2024-06-13')), 'bank_result_conflict').message).toContain(
      '银行流水号和到账日期不符',
    );
    // A return for a settled payment is not the same result: not in flight, as before.
    refused(when(s, giveBack()), 'payment_not_in_flight');
    // Nothing changed: the first settlement stands.
    expect(s.payments.get('PAY1')).toMatchObject({ status: 'settled', bankReference: 'ABC123' });
    expect(s.totals.settledFen).toBe(yuan(570));
  });
  it('returns money to the exact tranches it came from; the same return again records nothing', () => {
    const s = paid();
    const before = s.tranches.get('rc_A_1')!.remainingFen;
    const [e] = apply(s, giveBack());
    expect((e!.data as ledger.LedgerData<'PaymentReturned'>).restored).toEqual([
      { trancheId: 'rc_A_1', amountFen: yuan(570) },
    ]);
    expect(s.tranches.get('rc_A_1')!.remainingFen).toBe(before + yuan(570));
    expect(s.payments.get('PAY1')).toMatchObject({ bankReference: null, resultOn: '2024-06-14' });
    // The same date is the same return, whatever words its reason is given in (0134).
    expect(accepted(when(s, giveBack('2024-06-14', '账户已销户')))).toEqual([]);
    const other = refused(when(s, giveBack('2024-06-15')), 'bank_result_conflict');
    expect(other.message).toBe(
      '补贴发放 PAY1 已登记银行退回（退回日期 2024-06-14），本次却是退回日期 2024-06-15：同一笔发放出现了两个不同的退回结果（回盘文件有误或录入错误）；已登记的结果未改动，请与银行核对该笔发放。',
    );
    expect(other.details).toEqual({
      paymentId: 'PAY1',
      recorded: { returnedOn: '2024-06-14' },
      given: { returnedOn: '2024-06-15' },
    });
    // A settlement for a returned payment: not in flight.
    refused(when(s, settle()), 'payment_not_in_flight');
    expect(s.tranches.get('rc_A_1')!.remainingFen).toBe(before + yuan(570));
  });
});

describe('a settlement or return dated after today', () => {
  it('is refused (date_in_future); today itself is allowed', () => {
    const s = fundedCounty();
    dibaoNotice(s);
    apply(s, payment());
    const settle = (settledOn: string) => ({
      type: 'SettlePayment' as const,
      data: { paymentId: 'PAY1', bankReference: 'ABC123', settledOn },
    });
    const giveBack = (returnedOn: string) => ({
      type: 'ReturnPayment' as const,
      data: { paymentId: 'PAY1', reason: '户名不符', returnedOn },
    });
    // context(): today is 2024-06-15 in Beijing.
    refused(when(s, settle('2024-06-16')), 'date_in_future');
    refused(when(s, giveBack('2025-06-15')), 'date_in_future');
    accepted(when(s, settle('2024-06-15')));
    accepted(when(s, giveBack('2024-06-15')));
  });
});

type BankRowInput = Record<string, unknown> & {
  row: number;
  paymentId: string;
  result: 'settled' | 'returned';
};

/** A bank result file (回盘) as the route hands it to the decider (defaults applied). */
function bankFile(rows: readonly BankRowInput[]) {
  return {
    type: 'RecordBankResults' as const,
    data: {
      rows: rows.map((r) =>
        r.result === 'settled'
          ? { householdId: null, amountFen: null, bankReference: `B-${r.row}`, settledOn: '2024-06-14', ...r }
          : { householdId: null, amountFen: null, reason: '账户已销户', returnedOn: '2024-06-14', ...r },
      ),
    } as never,
  };
}

describe('RecordBankResults (回盘)', () => {
  /** Four payments of June instructed: PAY1 … PAY4, 570 元 each, to households H001 … H004. */
  function fourPaid(): LedgerState {
    const s = fundedCounty();
    dibaoNotice(s);
    const registry = registryOf({ ...defaultHouseholds, H004: { exited: false, accountBound: true } });
    for (const i of [1, 2, 3, 4])
      apply(s, payment({ paymentId: `PAY${i}`, householdId: `H00${i}` }), context({ registry }));
    return s;
  }

  it('settles and returns every row, in file order, each as the single command would', () => {
    const s = fourPaid();
    const before = s.tranches.get('rc_A_1')!.remainingFen;
    const events = accepted(
      when(
        s,
        bankFile([
          { row: 2, paymentId: 'PAY1', result: 'settled', householdId: 'H001', amountFen: yuan(570) },
          { row: 3, paymentId: 'PAY2', result: 'returned' },
          { row: 4, paymentId: 'PAY3', result: 'settled', settledOn: '2024-06-15' },
        ]),
      ),
    );
    expect(events.map((e) => [e.type, (e.data as { paymentId: string }).paymentId])).toEqual([
      ['PaymentSettled', 'PAY1'],
      ['PaymentReturned', 'PAY2'],
      ['PaymentSettled', 'PAY3'],
    ]);
    expect(events[0]!.data).toEqual({ paymentId: 'PAY1', bankReference: 'B-2', settledOn: '2024-06-14' });
    for (const e of events) evolve(s, e);
    expect([1, 2, 3, 4].map((i) => s.payments.get(`PAY${i}`)!.status)).toEqual([
      'settled',
      'returned',
      'settled',
      'instructed',
    ]);
    // The returned payment's money is back in the tranche it came from.
    expect(s.tranches.get('rc_A_1')!.remainingFen).toBe(before + yuan(570));
  });

  it('refuses the whole file for one bad row, naming every refused row with its code', () => {
    const s = fourPaid();
    apply(s, {
      type: 'SettlePayment',
      data: { paymentId: 'PAY4', bankReference: 'BY-HAND', settledOn: '2024-06-10' },
    });
    const refusal = refused(
      when(
        s,
        bankFile([
          { row: 2, paymentId: 'PAY1', result: 'settled' },
          { row: 3, paymentId: 'NOPE', result: 'settled' },
          { row: 4, paymentId: 'PAY2', result: 'returned', returnedOn: '2024-06-16' },
          { row: 5, paymentId: 'PAY1', result: 'returned' },
          { row: 6, paymentId: 'PAY3', result: 'settled', householdId: 'H009', amountFen: yuan(571) },
          { row: 7, paymentId: 'PAY4', result: 'returned' },
          { row: 7, paymentId: 'PAY2', result: 'settled' },
        ]),
      ),
      'bank_results_invalid',
    );
    expect(rowErrors(refusal).map((e) => [e.row, e.code])).toEqual([
      [3, 'payment_not_found'],
      [4, 'date_in_future'],
      [5, 'bank_row_payment_twice'],
      [6, 'bank_row_mismatch'],
      [7, 'payment_not_in_flight'],
      [7, 'row_number_duplicate'],
    ]);
    const [, , twice, mismatch, settledBefore] = rowErrors(refusal);
    expect(twice!.message).toContain('已在第 2 行出现');
    expect(mismatch!.message).toContain('户编号 H009 与该笔发放的户 H003 不符');
    expect(mismatch!.message).toContain('金额 571.00 元 与该笔发放的 570.00 元 不符');
    expect(settledBefore!.message).toContain('状态已是“已到账”');
    expect(refusal.details).toMatchObject({ rowCount: 7, errorCount: 6 });
  });

  it('refuses a file with a row contradicting the recorded result, naming the row; the same file again records nothing (0134)', () => {
    const s = fourPaid();
    const file = bankFile([
      { row: 2, paymentId: 'PAY1', result: 'settled' },
      { row: 3, paymentId: 'PAY2', result: 'returned' },
      { row: 4, paymentId: 'PAY3', result: 'settled' },
    ]);
    for (const e of accepted(when(s, file))) evolve(s, e);
    // The bank sends the same file again: every row agrees with what is recorded.
    expect(accepted(when(s, file))).toEqual([]);
    // A file whose rows disagree: another 流水号, another settlement date, another return date.
    const refusal = refused(
      when(
        s,
        bankFile([
          { row: 2, paymentId: 'PAY1', result: 'settled', bankReference: 'B-2-X' },
          { row: 3, paymentId: 'PAY2', result: 'returned', returnedOn: '2024-06-13' },
          { row: 4, paymentId: 'PAY3', result: 'settled', bankReference: 'B-4', settledOn: '2024-06-12' },
          { row: 5, paymentId: 'PAY4', result: 'settled' },
        ]),
      ),
      'bank_results_invalid',
    );
    const errors = rowErrors(refusal);
    expect(errors.map((e) => [e.row, e.code])).toEqual([
      [2, 'bank_result_conflict'],
      [3, 'bank_result_conflict'],
      [4, 'bank_result_conflict'],
    ]);
    expect(errors[0]!.message).toContain(
      '补贴发放 PAY1 已登记到账（银行流水号 B-2，到账日期 2024-06-14），本次却是银行流水号 B-2-X，到账日期 2024-06-14，银行流水号不符',
    );
    expect(errors[1]!.message).toContain(
      '已登记银行退回（退回日期 2024-06-14），本次却是退回日期 2024-06-13',
    );
    expect(errors[2]!.message).toContain('到账日期不符');
    for (const e of errors) expect(e.message).toContain('请与银行核对');
    // Nothing recorded, PAY4 (a good row) included.
    expect(s.payments.get('PAY4')!.status).toBe('instructed');
    expect(s.payments.get('PAY1')!.bankReference).toBe('B-2');
  });

  it('counts a row whose payment already has that result as recorded: no event, no refusal', () => {
    const s = fourPaid();
    const file = bankFile([
      { row: 2, paymentId: 'PAY1', result: 'settled' },
      { row: 3, paymentId: 'PAY2', result: 'returned' },
    ]);
    const [first] = accepted(when(s, file));
    // The first row was recorded (by hand, or by the stored part of this command cut short).
    evolve(s, first!);
    const rest = accepted(when(s, file));
    expect(rest.map((e) => [e.type, (e.data as { paymentId: string }).paymentId])).toEqual([
      ['PaymentReturned', 'PAY2'],
    ]);
    for (const e of rest) evolve(s, e);
    expect(accepted(when(s, file))).toEqual([]);
  });
});

describe('ReverseMovement', () => {
  const reverse = (movementKind: ledger.ReversibleKind, movementId: string, reversalId = 'RV1') => ({
    type: 'ReverseMovement' as const,
    data: { reversalId, movementKind, movementId, reason: '录入错误' },
  });
  it('reverses an earmark: cancels its tranches and restores the pool exactly', () => {
    const s = withPlanAndProject();
    apply(s, {
      type: 'EarmarkFunds',
      data: { earmarkId: 'E1', projectId: 'PJ1', fromAccountId: 'POOL', amountFen: yuan(30_000) },
    });
    const poolBefore = s.accounts.get('POOL')!.balanceFen;
    const [e] = apply(s, reverse('earmark', 'E1'));
    expect((e!.data as ledger.LedgerData<'MovementReversed'>).cancelled).toEqual([
      { trancheId: 'em_E1_1', amountFen: yuan(30_000) },
    ]);
    expect(s.accounts.get('POOL')!.balanceFen).toBe(poolBefore + yuan(30_000));
    expect(s.accounts.get('PRJ1')!.balanceFen).toBe(0n);
    expect(s.projects.get('PJ1')!.earmarkedFen).toBe(0n);
    refused(when(s, reverse('earmark', 'E1', 'RV2')), 'movement_already_reversed');
    refused(when(s, reverse('earmark', 'E1')), 'reversal_exists');
  });
  it('refuses to reverse a movement whose money has moved on', () => {
    const s = withPlanAndProject(false);
    apply(s, {
      type: 'EarmarkFunds',
      data: { earmarkId: 'E1', projectId: 'PJ1', fromAccountId: 'POOL', amountFen: yuan(30_000) },
    });
    apply(s, {
      type: 'DisburseFunds',
      data: { disbursementId: 'D1', projectId: 'PJ1', amountFen: yuan(1), acceptanceId: null },
    });
    refused(when(s, reverse('earmark', 'E1')), 'reversal_blocked_downstream');
    accepted(when(s, reverse('disbursement', 'D1')));
    refused(when(s, reverse('integration', 'NOPE')), 'movement_not_found');
  });
  it('reverses an external receipt while untouched, never one from another partition', () => {
    const s = fundedCounty();
    apply(s, reverse('receipt', 'B'));
    expect(s.totals.rootReceivedFen).toBe(yuan(100_000));
    const s2 = given([poolOpened]);
    s2.movements.set('receipt:R9', {
      kind: 'receipt',
      id: 'R9',
      amountFen: 1n,
      consumed: [],
      created: [],
      external: false,
      projectId: null,
      planLine: null,
      reversed: false,
    });
    refused(when(s2, reverse('receipt', 'R9')), 'movement_not_reversible');
  });
  it('reverses an unsettled payment (restoring its tranches) but not a settled one', () => {
    const s = fundedCounty();
    dibaoNotice(s);
    apply(s, payment());
    apply(s, payment({ paymentId: 'PAY2', householdId: 'H002' }));
    apply(s, {
      type: 'SettlePayment',
      data: { paymentId: 'PAY2', bankReference: 'B2', settledOn: '2024-06-14' },
    });
    apply(s, reverse('payment', 'PAY1'));
    expect(s.payments.get('PAY1')!.status).toBe('reversed');
    refused(when(s, reverse('payment', 'PAY2', 'RV2')), 'movement_not_reversible');
    refused(when(s, reverse('payment', 'PAY9', 'RV2')), 'movement_not_found');
  });
});

describe('CloseFiscalYear', () => {
  it('carries every remainder into the next year with its lineage, then refuses the year', () => {
    const s = fundedCounty();
    const events = apply(s, { type: 'CloseFiscalYear', data: { fiscalYear: 2024 } });
    expect(events.map((e) => e.type)).toEqual(['TranchesCarriedOver', 'FiscalYearClosed']);
    const carried = events[0]!.data as ledger.LedgerData<'TranchesCarriedOver'>;
    expect(carried.created.map((t) => [t.fiscalYear, t.amountFen, t.parents[0]?.trancheId])).toEqual([
      [2025, yuan(100_000), 'rc_A_1'],
      [2025, yuan(50_000), 'rc_B_1'],
    ]);
    expect(s.accounts.get('POOL')!.balanceFen).toBe(yuan(150_000));
    refused(when(s, { type: 'CloseFiscalYear', data: { fiscalYear: 2024 } }), 'fiscal_year_closed');
  });
  it('refuses while payments reserved on that year await the bank', () => {
    const s = fundedCounty();
    dibaoNotice(s);
    apply(s, payment());
    const r = refused(when(s, { type: 'CloseFiscalYear', data: { fiscalYear: 2024 } }), 'payments_in_flight');
    expect(r.details).toEqual({ inFlight: 1 });
    accepted(when(s, { type: 'CloseFiscalYear', data: { fiscalYear: 2023 } }));
  });
  it('splits a large carry-over into chunks', () => {
    const events: LedgerEventInput[] = [poolOpened];
    for (let i = 0; i < 1_201; i++) events.push(externalReceipt(`R${i}`, 1n));
    const out = apply(given(events), { type: 'CloseFiscalYear', data: { fiscalYear: 2024 } });
    expect(out.map((e) => e.type)).toEqual([
      'TranchesCarriedOver',
      'TranchesCarriedOver',
      'TranchesCarriedOver',
      'FiscalYearClosed',
    ]);
    expect(out[3]!.data).toMatchObject({ trancheCount: 1_201, carriedOverFen: 1_201n, chunkCount: 3 });
  });
});

describe('notices and objections', () => {
  const publish = (overrides: Record<string, unknown> = {}) => ({
    type: 'PublishNotice' as const,
    data: { ...(notice('N1', 'dibao_class1', '2024-06', 'approval').data as object), ...overrides } as never,
  });
  it('publishes with a period at least the programme minimum, in a stage of its chain', () => {
    accepted(when(given([]), publish()));
    refused(when(given([]), publish({ endsOn: '2024-06-06' })), 'notice_period_too_short');
    refused(when(given([]), publish({ endsOn: '2024-05-31' })), 'notice_period_invalid');
    refused(when(given([]), publish({ stage: 'third' })), 'notice_mismatch');
    refused(when(given([]), publish({ programmeCode: 'casino' })), 'unknown_programme');
    const s = given([]);
    apply(s, publish());
    refused(when(s, publish()), 'notice_exists');
  });
  it('files and resolves objections; closes only after the period with none open', () => {
    const s = given([]);
    apply(s, publish());
    const file = {
      type: 'FileObjection' as const,
      data: {
        objectionId: 'O1',
        noticeId: 'N1',
        householdId: 'H001',
        summary: '有车辆',
        channel: 'phone' as const,
        filedOn: '2024-06-02',
      },
    };
    apply(s, file);
    refused(when(s, file), 'objection_exists');
    refused(
      when(s, { ...file, data: { ...file.data, objectionId: 'O2', noticeId: 'NX' } }),
      'notice_not_found',
    );
    const close = { type: 'CloseNotice' as const, data: { noticeId: 'N1', note: '公示期满' } };
    refused(when(s, close, context({ today: '2024-06-07' })), 'notice_period_not_over');
    refused(when(s, close), 'objection_open');
    const resolve = {
      type: 'ResolveObjection' as const,
      data: { objectionId: 'O1', outcome: 'dismissed' as const, note: '经核实不实' },
    };
    const [e] = apply(s, resolve);
    expect(e!.data).toMatchObject({ noticeId: 'N1' });
    refused(when(s, resolve), 'objection_already_resolved');
    refused(when(s, { ...resolve, data: { ...resolve.data, objectionId: 'O9' } }), 'objection_not_found');
    apply(s, close);
    refused(when(s, close), 'notice_already_closed');
    refused(when(s, { ...file, data: { ...file.data, objectionId: 'O3' } }), 'notice_closed');
    refused(when(s, { ...close, data: { noticeId: 'NX', note: 'x公示' } }), 'notice_not_found');
  });
});

describe('evolve', () => {
  it('throws on an event that contradicts the state (a broken log), never refuses', () => {
    const s = given([poolOpened]);
    expect(() => given([poolOpened, poolOpened])).toThrow(/opened twice/);
    expect(() =>
      given([
        poolOpened,
        {
          type: 'PaymentSettled',
          data: { paymentId: 'NOPE', bankReference: 'x', settledOn: '2024-01-01' },
        },
      ]),
    ).toThrow(/not in flight/);
    expect(s.totals.balanceFen).toBe(0n);
  });
});

noticeLineCases();

afterAll(() => {
  // The writer's own code, shown refusing in writer tests (it needs a repeated command id).
  const writerCodes: RejectionCode[] = ['idempotency_key_reused'];
  const missing = (Object.keys(rejectionStatus) as RejectionCode[]).filter(
    (c) => !refusedCodes.has(c) && !writerCodes.includes(c),
  );
  expect(missing).toEqual([]);
});
