import type { EventFixture } from '@fundtrace/testkit';

/**
 * The hand-built scenario of the issue: central → province → city → county → integration →
 * project → roster → returns → re-payment, with amounts chosen so every hop is checkable by hand.
 * 1 yuan = 100 fen.
 */
export const central = '000000';
export const province = '410000';
export const city = '410300';
export const county = '411325';
export const village = '411325100201';
export const purpose = 'poverty_alleviation';
export const housing = 'housing_renovation';

export const docCentral = '财农〔2019〕7号';
export const docProvince = '豫财农〔2019〕21号';
export const docCity = '洛财农〔2019〕5号';
export const docCounty = '内财农〔2019〕12号';
export const docIntegration = '内政〔2019〕3号';

export function writeScenario(log: EventFixture): void {
  const at = (day: string) => ({ occurredAt: `2019-${day}T09:30:00+08:00` });
  // Central: 1,000,000 yuan appropriated (root), 600,000 issued to Henan.
  log.add(
    central,
    'AccountOpened',
    { accountId: 'pool', kind: 'pool', name: '中央专项扶贫资金专户' },
    at('01-02'),
  );
  log.add(
    central,
    'AllocationReceived',
    {
      receiptId: 'r-central',
      origin: { kind: 'external', payer: '财政部' },
      accountId: 'pool',
      documentNumber: docCentral,
      fundSource: 'central',
      purpose,
      fiscalYear: 2019,
      amountFen: 100_000_000n,
      created: [
        {
          trancheId: 'c-t1',
          accountId: 'pool',
          amountFen: 100_000_000n,
          fundSource: 'central',
          fiscalYear: 2019,
          purpose,
          documentNumber: docCentral,
          parents: [],
        },
      ],
    },
    at('01-03'),
  );
  log.add(
    central,
    'AllocationIssued',
    {
      allocationId: 'a-henan',
      toPartition: province,
      fromAccountId: 'pool',
      documentNumber: docCentral,
      fundSource: 'central',
      purpose,
      fiscalYear: 2019,
      title: '2019年中央财政专项扶贫资金（河南）',
      amountFen: 60_000_000n,
      consumed: [{ trancheId: 'c-t1', amountFen: 60_000_000n, fundSource: 'central' }],
    },
    at('01-10'),
  );
  // Province: receives 600,000 and appropriates 200,000 of its own; issues 400,000 to Luoyang (300,000 + 100,000).
  log.add(
    province,
    'AccountOpened',
    { accountId: 'pool', kind: 'pool', name: '河南省扶贫资金专户' },
    at('01-11'),
  );
  log.add(
    province,
    'AllocationReceived',
    {
      receiptId: 'r-from-central',
      origin: { kind: 'partition', partition: central, allocationId: 'a-henan' },
      accountId: 'pool',
      documentNumber: docCentral,
      fundSource: 'central',
      purpose,
      fiscalYear: 2019,
      amountFen: 60_000_000n,
      created: [
        {
          trancheId: 'p-t1',
          accountId: 'pool',
          amountFen: 60_000_000n,
          fundSource: 'central',
          fiscalYear: 2019,
          purpose,
          documentNumber: docCentral,
          parents: [{ partition: central, trancheId: 'c-t1', amountFen: 60_000_000n }],
        },
      ],
    },
    at('01-12'),
  );
  log.add(
    province,
    'AllocationReceived',
    {
      receiptId: 'r-province',
      origin: { kind: 'external', payer: '河南省财政厅' },
      accountId: 'pool',
      documentNumber: docProvince,
      fundSource: 'province',
      purpose,
      fiscalYear: 2019,
      amountFen: 20_000_000n,
      created: [
        {
          trancheId: 'p-t2',
          accountId: 'pool',
          amountFen: 20_000_000n,
          fundSource: 'province',
          fiscalYear: 2019,
          purpose,
          documentNumber: docProvince,
          parents: [],
        },
      ],
    },
    at('01-12'),
  );
  log.add(
    province,
    'AllocationIssued',
    {
      allocationId: 'a-luoyang',
      toPartition: city,
      fromAccountId: 'pool',
      documentNumber: docProvince,
      fundSource: 'province',
      purpose,
      fiscalYear: 2019,
      title: '2019年省级财政专项扶贫资金（洛阳）',
      amountFen: 40_000_000n,
      consumed: [
        { trancheId: 'p-t1', amountFen: 30_000_000n, fundSource: 'central' },
        { trancheId: 'p-t2', amountFen: 10_000_000n, fundSource: 'province' },
      ],
    },
    at('01-20'),
  );
  // City: receives 400,000, issues 300,000 to Neixiang (250,000 central + 50,000 provincial money).
  log.add(
    city,
    'AccountOpened',
    { accountId: 'pool', kind: 'pool', name: '洛阳市扶贫资金专户' },
    at('01-21'),
  );
  log.add(
    city,
    'AllocationReceived',
    {
      receiptId: 'r-from-henan',
      origin: { kind: 'partition', partition: province, allocationId: 'a-luoyang' },
      accountId: 'pool',
      documentNumber: docProvince,
      fundSource: 'province',
      purpose,
      fiscalYear: 2019,
      amountFen: 40_000_000n,
      created: [
        {
          trancheId: 'y-t1',
          accountId: 'pool',
          amountFen: 30_000_000n,
          fundSource: 'central',
          fiscalYear: 2019,
          purpose,
          documentNumber: docCentral,
          parents: [{ partition: province, trancheId: 'p-t1', amountFen: 30_000_000n }],
        },
        {
          trancheId: 'y-t2',
          accountId: 'pool',
          amountFen: 10_000_000n,
          fundSource: 'province',
          fiscalYear: 2019,
          purpose,
          documentNumber: docProvince,
          parents: [{ partition: province, trancheId: 'p-t2', amountFen: 10_000_000n }],
        },
      ],
    },
    at('01-22'),
  );
  log.add(
    city,
    'AllocationIssued',
    {
      allocationId: 'a-neixiang',
      toPartition: county,
      fromAccountId: 'pool',
      documentNumber: docCity,
      fundSource: 'city',
      purpose,
      fiscalYear: 2019,
      title: '2019年扶贫资金（内乡县）',
      amountFen: 30_000_000n,
      consumed: [
        { trancheId: 'y-t1', amountFen: 25_000_000n, fundSource: 'central' },
        { trancheId: 'y-t2', amountFen: 5_000_000n, fundSource: 'province' },
      ],
    },
    at('02-01'),
  );
  // County: receives 300,000; integrates 250,000 under its plan; earmarks 80,000 to a project and
  // disburses 50,000 of it; pays a housing roster of three households, one of whose payment the
  // bank returns and which is paid again.
  for (const [accountId, kind, name] of [
    ['pool', 'pool', '内乡县扶贫资金专户'],
    ['prj-road', 'project', '赵店村道路项目'],
    ['iu-coop', 'implementing_unit', '赵店村建筑合作社'],
  ] as const) {
    log.add(county, 'AccountOpened', { accountId, kind, name }, at('02-02'));
  }
  log.add(
    county,
    'AllocationReceived',
    {
      receiptId: 'r-from-luoyang',
      origin: { kind: 'partition', partition: city, allocationId: 'a-neixiang' },
      accountId: 'pool',
      documentNumber: docCity,
      fundSource: 'city',
      purpose,
      fiscalYear: 2019,
      amountFen: 30_000_000n,
      created: [
        {
          trancheId: 'k-t1',
          accountId: 'pool',
          amountFen: 25_000_000n,
          fundSource: 'central',
          fiscalYear: 2019,
          purpose,
          documentNumber: docCentral,
          parents: [{ partition: city, trancheId: 'y-t1', amountFen: 25_000_000n }],
        },
        {
          trancheId: 'k-t2',
          accountId: 'pool',
          amountFen: 5_000_000n,
          fundSource: 'province',
          fiscalYear: 2019,
          purpose,
          documentNumber: docProvince,
          parents: [{ partition: city, trancheId: 'y-t2', amountFen: 5_000_000n }],
        },
      ],
    },
    at('02-03'),
  );
  log.add(
    county,
    'PlanApproved',
    {
      planId: 'plan-2019',
      documentNumber: docIntegration,
      totalFen: 30_000_000n,
      title: '内乡县2019年统筹整合涉农资金实施方案',
      fiscalYear: 2019,
      lines: [
        { lineId: 'infra', category: 'infrastructure', title: '村组道路', amountFen: 20_000_000n },
        { lineId: 'house', category: 'housing', title: '危房改造', amountFen: 10_000_000n },
      ],
    },
    at('02-05'),
  );
  log.add(
    county,
    'FundsIntegrated',
    {
      integrationId: 'int-1',
      planId: 'plan-2019',
      lineId: 'house',
      accountId: 'pool',
      documentNumber: docIntegration,
      purpose: housing,
      amountFen: 25_000_000n,
      consumed: [
        { trancheId: 'k-t1', amountFen: 20_000_000n },
        { trancheId: 'k-t2', amountFen: 5_000_000n },
      ],
      created: [
        {
          trancheId: 'k-i1',
          accountId: 'pool',
          amountFen: 20_000_000n,
          fundSource: 'central',
          fiscalYear: 2019,
          purpose: housing,
          documentNumber: docCentral,
          parents: [{ partition: null, trancheId: 'k-t1', amountFen: 20_000_000n }],
        },
        {
          trancheId: 'k-i2',
          accountId: 'pool',
          amountFen: 5_000_000n,
          fundSource: 'province',
          fiscalYear: 2019,
          purpose: housing,
          documentNumber: docProvince,
          parents: [{ partition: null, trancheId: 'k-t2', amountFen: 5_000_000n }],
        },
      ],
    },
    at('02-06'),
  );
  log.add(
    county,
    'ProjectApproved',
    {
      projectId: 'prj-road',
      planId: 'plan-2019',
      lineId: 'infra',
      name: '赵店村村组道路硬化',
      villageCode: village,
      category: 'infrastructure',
      budgetFen: 8_000_000n,
      accountId: 'prj-road',
      implementingUnitAccountId: 'iu-coop',
      reimbursement: true,
    },
    at('02-10'),
  );
  log.add(
    county,
    'FundsEarmarked',
    {
      earmarkId: 'em-1',
      projectId: 'prj-road',
      fromAccountId: 'pool',
      toAccountId: 'prj-road',
      amountFen: 8_000_000n,
      consumed: [{ trancheId: 'k-i1', amountFen: 8_000_000n }],
      created: [
        {
          trancheId: 'k-e1',
          accountId: 'prj-road',
          amountFen: 8_000_000n,
          fundSource: 'central',
          fiscalYear: 2019,
          purpose: housing,
          documentNumber: docCentral,
          parents: [{ partition: null, trancheId: 'k-i1', amountFen: 8_000_000n }],
        },
      ],
    },
    at('02-11'),
  );
  log.add(
    county,
    'AcceptanceRecorded',
    {
      acceptanceId: 'acc-1',
      projectId: 'prj-road',
      documentNumber: '内验〔2019〕9号',
      acceptedOn: '2019-04-30',
      inspectedBy: '内乡县交通局',
    },
    at('04-30'),
  );
  log.add(
    county,
    'FundsDisbursed',
    {
      disbursementId: 'db-1',
      projectId: 'prj-road',
      fromAccountId: 'prj-road',
      toAccountId: 'iu-coop',
      amountFen: 5_000_000n,
      acceptanceId: 'acc-1',
      consumed: [{ trancheId: 'k-e1', amountFen: 5_000_000n }],
      created: [
        {
          trancheId: 'k-d1',
          accountId: 'iu-coop',
          amountFen: 5_000_000n,
          fundSource: 'central',
          fiscalYear: 2019,
          purpose: housing,
          documentNumber: docCentral,
          parents: [{ partition: null, trancheId: 'k-e1', amountFen: 5_000_000n }],
        },
      ],
    },
    at('05-05'),
  );
  log.add(
    county,
    'RosterSubmitted',
    {
      rosterId: 'ros-1',
      programmeCode: 'housing_renovation',
      period: '2019',
      accountId: 'pool',
      noticeId: null,
      rowCount: 3,
      totalFen: 4_100_000n,
      registrySeq: 0,
    },
    at('05-10'),
  );
  const payment = (
    paymentId: string,
    householdId: string,
    row: number,
    amountFen: bigint,
    consumed: { trancheId: string; amountFen: bigint }[],
    rosterId: string | null = 'ros-1',
  ) =>
    log.add(
      county,
      'PaymentInstructed',
      {
        paymentId,
        rosterId,
        row,
        householdId,
        programmeCode: 'housing_renovation',
        period: '2019',
        quantity: 1,
        amountFen,
        accountId: 'pool',
        noticeId: null,
        acceptanceRef: null,
        registrySeq: 0,
        consumed,
      },
      at('05-10'),
    );
  payment('pay-1', 'H001', 2, 2_500_000n, [{ trancheId: 'k-i2', amountFen: 2_500_000n }]);
  payment('pay-2', 'H002', 3, 800_000n, [{ trancheId: 'k-i2', amountFen: 800_000n }]);
  payment('pay-3', 'H003', 4, 800_000n, [
    { trancheId: 'k-i1', amountFen: 300_000n },
    { trancheId: 'k-i2', amountFen: 500_000n },
  ]);
  log.add(
    county,
    'PaymentSettled',
    { paymentId: 'pay-1', bankReference: 'BK-0001', settledOn: '2019-05-12' },
    at('05-12'),
  );
  log.add(
    county,
    'PaymentSettled',
    { paymentId: 'pay-2', bankReference: 'BK-0002', settledOn: '2019-05-12' },
    at('05-12'),
  );
  log.add(
    county,
    'PaymentReturned',
    {
      paymentId: 'pay-3',
      reason: '账户已销户',
      returnedOn: '2019-05-13',
      restored: [
        { trancheId: 'k-i1', amountFen: 300_000n },
        { trancheId: 'k-i2', amountFen: 500_000n },
      ],
    },
    at('05-13'),
  );
  payment('pay-4', 'H003', 1, 800_000n, [{ trancheId: 'k-i2', amountFen: 800_000n }], null);
  log.add(
    county,
    'PaymentSettled',
    { paymentId: 'pay-4', bankReference: 'BK-0004', settledOn: '2019-05-21' },
    at('05-21'),
  );
}
