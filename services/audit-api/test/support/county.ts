import { randomBytes } from 'node:crypto';
import { encryptField, hmacField, type Keyring } from '@fundtrace/pii';
import type { LegacyImport } from './legacy-import';

/**
 * A county with a planted violation of every rule and a clean look-alike beside each, imported as
 * legacy books (see LegacyImport). Amounts are fen; 1 元 = 100 fen. The rules run as of 2019-12-31.
 *
 * City 410300 receives 500,000 元 (y-1) and passes only 196,380 元 on to Neixiang: 截留 of the rest.
 * County 411325 receives that as k-1 (general purpose), 50,000 元 it never touches (k-2: 滞留),
 * 100,000 元 for social assistance (k-sa) and 10,000 元 for industry (k-ind), and pays households.
 */
export const asOf = '2019-12-31';
export const city = '410300';
export const county = '411325';
export const otherCounty = '411221';
export const village = '411325100201';
export const docCity = '洛财农〔2019〕1号';

/** What the rules must find, and nothing else: rule id → the subject ids that identify each finding. */
export const planted: Readonly<Record<string, readonly string[][]>> = {
  idle_funds: [['pool']], // k-2, idle since 02-06
  withheld_funds: [['pool']], // city y-1
  purpose_mismatch: [['pay-h10', 'H10']],
  procedure_violation: [
    ['pay-h11', 'H11'],
    ['pay-h13', 'H13'],
    ['db-b1', 'prj-b'],
  ],
  false_claim: [
    ['pay-h04', 'H04'],
    ['pay-h06', 'H06'],
    ['pay-hx', 'HX'],
  ],
  duplicate_payment: [['H02', 'pay-h02a', 'pay-h02b']],
  shared_account: [['H15', 'H16']],
  cross_county_identity: [['H18', 'M01']],
  above_standard: [['pay-h08', 'H08']],
  split_payment: [['prj-a', 'iu-a', 'db-a1', 'db-a2']],
  notice_without_list: [['n-bare', 'pay-h01c']],
  objection_upheld_paid: [['pay-h09', 'H09', 'n-dibao', 'o-h09']],
};

const keyring: Keyring = {
  activeKeyId: 'k1',
  keys: new Map([['k1', randomBytes(32)]]),
  hmacKey: randomBytes(32),
};

const digest = () => randomBytes(32).toString('hex');

function member(memberNo: number, idNumber: string) {
  return {
    memberNo,
    relation: memberNo === 1 ? ('head' as const) : ('spouse' as const),
    nameEnc: encryptField('name', `成员${memberNo}`, keyring),
    nameMasked: '成*',
    idNumberEnc: encryptField('id_number', idNumber, keyring),
    idNumberHash: hmacField('id_number', idNumber, keyring.hmacKey),
    idNumberMasked: `${idNumber.slice(0, 4)}**********${idNumber.slice(-4)}`,
    birthYear: 1970,
    sex: 'male' as const,
    disability: null,
    healthEnc: encryptField('health', 'healthy', keyring),
  };
}

function account(number: string) {
  return {
    bank: 'ABC',
    medium: 'card' as const,
    accountEnc: encryptField('account_number', number, keyring),
    accountHash: hmacField('account_number', number, keyring.hmacKey),
    accountMasked: `****${number.slice(-4)}`,
    holderMemberNo: 1,
  };
}

const tranche = (
  trancheId: string,
  accountId: string,
  amountFen: bigint,
  purpose: string,
  documentNumber: string,
  parents: { partition: string | null; trancheId: string; amountFen: bigint }[],
  fundSource: 'city' | 'county' = 'city',
) => ({ trancheId, accountId, amountFen, fundSource, fiscalYear: 2019, purpose, documentNumber, parents });

export function importCounty(log: LegacyImport): void {
  // ── City: receives, passes part on, keeps the rest (截留); a fresh receipt and a passed-on one are clean.
  log.add(
    city,
    'AccountOpened',
    { accountId: 'pool', kind: 'pool', name: '洛阳市扶贫资金专户' },
    '2019-01-02',
  );
  const cityReceipt = (receiptId: string, trancheId: string, amountFen: bigint, doc: string, day: string) =>
    log.add(
      city,
      'AllocationReceived',
      {
        receiptId,
        origin: { kind: 'external', payer: '洛阳市财政局' },
        accountId: 'pool',
        documentNumber: doc,
        fundSource: 'city',
        purpose: 'general',
        fiscalYear: 2019,
        amountFen,
        created: [tranche(trancheId, 'pool', amountFen, 'general', doc, [])],
      },
      day,
    );
  cityReceipt('r-y1', 'y-1', 50_000_000n, docCity, '2019-01-05');
  cityReceipt('r-y3', 'y-3', 5_000_000n, '洛财农〔2019〕3号', '2019-02-01');
  cityReceipt('r-y2', 'y-2', 10_000_000n, '洛财农〔2019〕9号', '2019-12-20'); // 11 days: not yet 截留
  const issue = (allocationId: string, from: string, amountFen: bigint, doc: string, day: string) =>
    log.add(
      city,
      'AllocationIssued',
      {
        allocationId,
        toPartition: county,
        fromAccountId: 'pool',
        documentNumber: doc,
        fundSource: 'city',
        purpose: 'general',
        fiscalYear: 2019,
        title: `2019年扶贫资金（内乡县）${allocationId}`,
        amountFen,
        consumed: [{ trancheId: from, amountFen, fundSource: 'city' }],
      },
      day,
    );
  const k1 = 19_638_000n; // earmarks 18,000,000 + payments 1,638,000: k-1 ends at zero
  issue('a-nx', 'y-1', k1, docCity, '2019-01-10');
  issue('a-nx2', 'y-3', 5_000_000n, '洛财农〔2019〕3号', '2019-02-05');

  // ── County accounts, receipts, plan, projects.
  for (const [accountId, kind, name] of [
    ['pool', 'pool', '内乡县扶贫资金专户'],
    ['prj-a', 'project', '道路项目A'],
    ['prj-b', 'project', '水利项目B (报账制)'],
    ['prj-c', 'project', '产业项目C'],
    ['iu-a', 'implementing_unit', '施工单位A'],
    ['iu-b', 'implementing_unit', '施工单位B'],
    ['iu-c', 'implementing_unit', '合作社C'],
  ] as const) {
    log.add(county, 'AccountOpened', { accountId, kind, name }, '2019-01-11');
  }
  const fromCity = (
    receiptId: string,
    allocationId: string,
    trancheId: string,
    parent: string,
    amountFen: bigint,
    doc: string,
    day: string,
  ) =>
    log.add(
      county,
      'AllocationReceived',
      {
        receiptId,
        origin: { kind: 'partition', partition: city, allocationId },
        accountId: 'pool',
        documentNumber: doc,
        fundSource: 'city',
        purpose: 'general',
        fiscalYear: 2019,
        amountFen,
        created: [
          tranche(trancheId, 'pool', amountFen, 'general', doc, [
            { partition: city, trancheId: parent, amountFen },
          ]),
        ],
      },
      day,
    );
  fromCity('r-k1', 'a-nx', 'k-1', 'y-1', k1, docCity, '2019-01-12');
  fromCity('r-k2', 'a-nx2', 'k-2', 'y-3', 5_000_000n, '洛财农〔2019〕3号', '2019-02-06'); // never used: 滞留
  const external = (
    receiptId: string,
    trancheId: string,
    amountFen: bigint,
    purpose: string,
    doc: string,
    day: string,
  ) =>
    log.add(
      county,
      'AllocationReceived',
      {
        receiptId,
        origin: { kind: 'external', payer: '内乡县财政局' },
        accountId: 'pool',
        documentNumber: doc,
        fundSource: 'county',
        purpose,
        fiscalYear: 2019,
        amountFen,
        created: [tranche(trancheId, 'pool', amountFen, purpose, doc, [], 'county')],
      },
      day,
    );
  external('r-sa', 'k-sa', 10_000_000n, 'social_assistance', '内财社〔2019〕3号', '2019-07-15'); // 169 days: not idle
  external('r-ind', 'k-ind', 1_000_000n, 'industry', '内财农〔2019〕8号', '2019-08-01');
  log.add(
    county,
    'PlanApproved',
    {
      planId: 'plan-2019',
      documentNumber: '内政〔2019〕3号',
      totalFen: 18_000_000n,
      title: '内乡县2019年扶贫项目实施方案',
      fiscalYear: 2019,
      lines: [{ lineId: 'infra', category: 'infrastructure', title: '基础设施', amountFen: 18_000_000n }],
    },
    '2019-02-20',
  );
  const projects: [string, bigint, boolean][] = [
    ['prj-a', 10_000_000n, false],
    ['prj-b', 5_000_000n, true],
    ['prj-c', 3_000_000n, false],
  ];
  for (const [projectId, budgetFen, reimbursement] of projects) {
    const unit = projectId.replace('prj-', 'iu-');
    log.add(
      county,
      'ProjectApproved',
      {
        projectId,
        planId: 'plan-2019',
        lineId: 'infra',
        name: `项目 ${projectId}`,
        villageCode: village,
        category: 'infrastructure',
        budgetFen,
        accountId: projectId,
        implementingUnitAccountId: unit,
        reimbursement,
      },
      '2019-02-25',
    );
    log.add(
      county,
      'FundsEarmarked',
      {
        earmarkId: `em-${projectId}`,
        projectId,
        fromAccountId: 'pool',
        toAccountId: projectId,
        amountFen: budgetFen,
        consumed: [{ trancheId: 'k-1', amountFen: budgetFen }],
        created: [
          tranche(`k-e-${projectId}`, projectId, budgetFen, 'general', docCity, [
            { partition: null, trancheId: 'k-1', amountFen: budgetFen },
          ]),
        ],
      },
      '2019-03-01',
    );
  }
  // 报账制 project B: accepted 06-10 (recorded first: a legacy import keeps the paper order, not the dates).
  log.add(
    county,
    'AcceptanceRecorded',
    {
      acceptanceId: 'acc-b',
      projectId: 'prj-b',
      documentNumber: '内验〔2019〕7号',
      acceptedOn: '2019-06-10',
      inspectedBy: '县水利局',
    },
    '2019-06-10',
  );
  log.add(
    county,
    'AcceptanceRecorded',
    {
      acceptanceId: 'acc-h',
      projectId: 'prj-c',
      documentNumber: '内验〔2019〕5号',
      acceptedOn: '2019-05-15',
      inspectedBy: '县住建局',
    },
    '2019-05-15',
  );
  const disburse = (
    disbursementId: string,
    projectId: string,
    amountFen: bigint,
    acceptanceId: string | null,
    day: string,
  ) => {
    const unit = projectId.replace('prj-', 'iu-');
    log.add(
      county,
      'FundsDisbursed',
      {
        disbursementId,
        projectId,
        fromAccountId: projectId,
        toAccountId: unit,
        amountFen,
        acceptanceId,
        consumed: [{ trancheId: `k-e-${projectId}`, amountFen }],
        created: [
          tranche(`k-d-${disbursementId}`, unit, amountFen, 'general', docCity, [
            { partition: null, trancheId: `k-e-${projectId}`, amountFen },
          ]),
        ],
      },
      day,
    );
  };
  disburse('db-a1', 'prj-a', 1_500_000n, null, '2019-05-01'); // split: two under 30,000 元 within 14 days
  disburse('db-a2', 'prj-a', 1_500_000n, null, '2019-05-15');
  disburse('db-a3', 'prj-a', 7_000_000n, null, '2019-06-20'); // above the threshold: approved as one
  disburse('db-b1', 'prj-b', 2_000_000n, 'acc-b', '2019-06-05'); // before acceptance (06-10)
  disburse('db-b2', 'prj-b', 3_000_000n, 'acc-b', '2019-06-15');
  disburse('db-c1', 'prj-c', 1_500_000n, null, '2019-04-01'); // same amounts as A, 91 days apart: no split
  disburse('db-c2', 'prj-c', 1_500_000n, null, '2019-07-01');

  // ── Notices: 低保 approval notice 07-01..07-10, housing third notice 04-01..04-10, each with its
  // list of households (公示名单); a 低保 notice 09-20..09-29 published without one (未公示名单).
  const notice = (
    noticeId: string,
    programmeCode: string,
    stage: string,
    startsOn: string,
    endsOn: string,
    listed: readonly (readonly [householdId: string, amountFen: bigint])[],
  ) => {
    log.add(
      county,
      'NoticePublished',
      {
        noticeId,
        kind: 'programme',
        title: `公示 ${noticeId}`,
        stage,
        programmeCode,
        period: '2019',
        subjectId: null,
        startsOn,
        endsOn,
      },
      startsOn,
    );
    if (listed.length > 0) {
      const lines = listed.map(([householdId, amountFen], i) => ({
        line: i + 1,
        householdId,
        memberNos: [],
        quantity: 1,
        amountFen,
      }));
      log.add(county, 'NoticeLinesPublished', { noticeId, part: 1, partCount: 1, lines }, startsOn);
    }
    log.add(county, 'NoticeClosed', { noticeId, note: '公示期满无异议' }, endsOn);
  };
  const dibaoListed = [
    'H01',
    'H02',
    'H03',
    'H04',
    'H05',
    'H06',
    'H07',
    'H08',
    'H09',
    'H10',
    'H11',
    'H12',
    'HX',
    'H20',
  ];
  notice(
    'n-dibao',
    'dibao_class1',
    'approval',
    '2019-07-01',
    '2019-07-10',
    dibaoListed.map((h) => [h, 19_000n] as const),
  );
  notice('n-house', 'housing_repair', 'third', '2019-04-01', '2019-04-10', [
    ['H13', 800_000n],
    ['H14', 800_000n],
  ]);
  notice('n-bare', 'dibao_class1', 'approval', '2019-09-20', '2019-09-29', []);

  // ── Registry: households, a removal, a lift, deaths, shared and changed cards, and a person in two counties.
  const register = (partition: string, householdId: string, ids: string[], card: string | null) => {
    log.add(
      partition,
      'HouseholdRegistered',
      {
        householdId,
        commandDigest: digest(),
        villageCode: partition === county ? village : '411221100201',
        causeOfPoverty: 'illness',
        registeredOn: '2018-06-01',
        members: ids.map((id, i) => member(i + 1, id)),
        phoneEnc: null,
        phoneHash: null,
        phoneMasked: null,
        maskingVersion: 1,
      },
      '2018-06-01',
    );
    if (card !== null) {
      log.add(
        partition,
        'AccountBound',
        { householdId, commandDigest: digest(), ...account(card), boundOn: '2018-06-02', maskingVersion: 1 },
        '2018-06-02',
      );
    }
  };
  const idOf = (n: number) => `41132519700101${String(n).padStart(3, '0')}X`;
  const cardOf = (n: number) => `6228480000000${String(n).padStart(4, '0')}`;
  for (let n = 1; n <= 20; n++) {
    const householdId = `H${String(n).padStart(2, '0')}`;
    const members = n === 7 || n === 9 ? [idOf(n), idOf(100 + n)] : [idOf(n)];
    const card = n === 16 || n === 17 ? cardOf(15) : cardOf(n); // H16 shares H15's card; H17 only at first
    register(county, householdId, members, card);
  }
  register(otherCounty, 'M01', [idOf(18)], cardOf(900)); // H18's head, registered again
  register(otherCounty, 'M02', ['411325197001010191'], cardOf(901)); // one character from H19's
  log.add(
    county,
    'AccountChanged',
    {
      householdId: 'H17',
      commandDigest: digest(),
      ...account(cardOf(17)),
      previousAccountHash: hmacField('account_number', cardOf(15), keyring.hmacKey),
      changedOn: '2019-03-01',
      reason: '换卡',
      maskingVersion: 1,
    },
    '2019-03-01',
  );
  log.add(
    county,
    'HouseholdExited',
    {
      householdId: 'H04',
      commandDigest: digest(),
      kind: 'removed',
      exitedOn: '2019-05-01',
      reason: '识别不精准，销号',
    },
    '2019-05-01',
  );
  log.add(
    county,
    'HouseholdExited',
    {
      householdId: 'H05',
      commandDigest: digest(),
      kind: 'lifted',
      exitedOn: '2019-05-01',
      reason: '稳定脱贫',
    },
    '2019-05-01',
  );
  log.add(
    county,
    'MemberDeceased',
    { householdId: 'H06', commandDigest: digest(), memberNo: 1, diedOn: '2019-06-01' },
    '2019-06-01',
  );
  log.add(
    county,
    'MemberDeceased',
    { householdId: 'H07', commandDigest: digest(), memberNo: 2, diedOn: '2019-06-01' },
    '2019-06-01',
  );

  // ── Payments.
  const pay = (
    paymentId: string,
    householdId: string,
    amountFen: bigint,
    from: string,
    day: string,
    options: {
      programme?: string;
      period?: string;
      quantity?: number;
      notice?: string;
      acceptance?: string | null;
    } = {},
  ) =>
    log.add(
      county,
      'PaymentInstructed',
      {
        paymentId,
        rosterId: null,
        row: null,
        householdId,
        programmeCode: options.programme ?? 'dibao_class1',
        period: options.period ?? '2019-08',
        quantity: options.quantity ?? 1,
        amountFen,
        accountId: 'pool',
        noticeId: options.notice ?? 'n-dibao',
        acceptanceRef: options.acceptance ?? null,
        registrySeq: 0,
        consumed: [{ trancheId: from, amountFen }],
      },
      day,
    );
  const settle = (paymentId: string, day: string) =>
    log.add(county, 'PaymentSettled', { paymentId, bankReference: `BK-${paymentId}`, settledOn: day }, day);
  const aug = '2019-08-05';
  pay('pay-h01a', 'H01', 19_000n, 'k-sa', aug);
  pay('pay-h01b', 'H01', 19_000n, 'k-sa', '2019-09-05', { period: '2019-09' }); // another month: no duplicate
  pay('pay-h01c', 'H01', 19_000n, 'k-sa', '2019-10-08', { period: '2019-10', notice: 'n-bare' }); // no list
  pay('pay-h02a', 'H02', 19_000n, 'k-sa', aug);
  pay('pay-h02b', 'H02', 19_000n, 'k-sa', '2019-08-20'); // the same month again: duplicate
  pay('pay-h03a', 'H03', 19_000n, 'k-sa', aug);
  log.add(
    county,
    'PaymentReturned',
    {
      paymentId: 'pay-h03a',
      reason: '账户冻结',
      returnedOn: '2019-08-07',
      restored: [{ trancheId: 'k-sa', amountFen: 19_000n }],
    },
    '2019-08-07',
  );
  pay('pay-h03b', 'H03', 19_000n, 'k-sa', '2019-08-10'); // paid again after the return: no duplicate
  pay('pay-h04', 'H04', 19_000n, 'k-sa', aug); // removed 05-01
  pay('pay-h05', 'H05', 19_000n, 'k-sa', aug); // lifted: still eligible
  pay('pay-h06', 'H06', 19_000n, 'k-sa', aug); // its only member died 06-01
  pay('pay-h07', 'H07', 19_000n, 'k-sa', aug); // one of two died, one person paid
  pay('pay-hx', 'HX', 19_000n, 'k-sa', aug); // not in the register
  pay('pay-h08', 'H08', 25_000n, 'k-sa', aug); // above 190 元 per person-month
  pay('pay-h09', 'H09', 38_000n, 'k-sa', aug, { quantity: 2 }); // two persons at the cap
  pay('pay-h10', 'H10', 19_000n, 'k-ind', aug); // industry money for 低保
  pay('pay-h11', 'H11', 19_000n, 'k-1', '2019-07-08', { period: '2019-07' }); // notice ran until 07-10
  pay('pay-h12', 'H12', 19_000n, 'k-1', '2019-07-11', { period: '2019-07' });
  const repair = { programme: 'housing_repair', period: '2019', notice: 'n-house' };
  pay('pay-h13', 'H13', 800_000n, 'k-1', '2019-05-01', { ...repair, acceptance: null }); // no 验收
  pay('pay-h14', 'H14', 800_000n, 'k-1', '2019-05-20', { ...repair, acceptance: '内验〔2019〕5号' });
  for (const id of ['pay-h01a', 'pay-h02a', 'pay-h12', 'pay-h14']) settle(id, '2019-08-06');

  // ── Objections to lines of n-dibao after their payments (异议): H09's upheld and its payment left
  // booked (异议成立仍发放); H20's upheld and its payment reversed (冲正); H12's dismissed.
  pay('pay-h20', 'H20', 19_000n, 'k-sa', '2019-08-12');
  const object = (objectionId: string, householdId: string, outcome: 'upheld' | 'dismissed') => {
    log.add(
      county,
      'ObjectionFiled',
      {
        objectionId,
        noticeId: 'n-dibao',
        householdId,
        summary: '该户家中有人在外务工，收入超过低保标准',
        channel: 'counter',
        filedOn: '2019-08-15',
      },
      '2019-08-15',
    );
    log.add(
      county,
      'ObjectionResolved',
      {
        objectionId,
        noticeId: 'n-dibao',
        outcome,
        note: outcome === 'upheld' ? '经核实，异议成立' : '经核实，异议不成立',
      },
      '2019-08-20',
    );
  };
  object('o-h09', 'H09', 'upheld');
  object('o-h20', 'H20', 'upheld');
  object('o-h12', 'H12', 'dismissed');
  log.add(
    county,
    'MovementReversed',
    {
      reversalId: 'rev-pay-h20',
      movementKind: 'payment',
      movementId: 'pay-h20',
      reason: '异议成立，冲正',
      amountFen: 19_000n,
      cancelled: [],
      restored: [{ trancheId: 'k-sa', amountFen: 19_000n }],
    },
    '2019-08-28',
  );
}
