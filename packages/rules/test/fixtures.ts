import type {
  DisbursementFact,
  EvidenceRef,
  HouseholdFact,
  PaymentFact,
  ProgrammeRef,
  PurposeRef,
  RuleInput,
  TrancheFact,
} from '../src';

export const county = '411325';
let seq = 0;
export const ev = (type: string, stream = `LEDGER_${county}`): EvidenceRef => ({ stream, seq: ++seq, type });

export const programmes: ReadonlyMap<string, ProgrammeRef> = new Map([
  [
    'dibao',
    {
      code: 'dibao',
      name: '农村低保',
      unit: 'person',
      minFen: null,
      maxFen: 228_000n,
      needsAcceptance: false,
      needsNotice: true,
      purposes: ['social_assistance', 'general'],
    },
  ],
  [
    // 低保 as the ledger's reference data has it: a standard per person per month.
    'dibao_monthly',
    {
      code: 'dibao_monthly',
      name: '农村低保 (按月发放)',
      unit: 'person_month',
      minFen: null,
      maxFen: 19_000n,
      needsAcceptance: false,
      needsNotice: true,
      purposes: ['social_assistance', 'general'],
    },
  ],
  [
    // 雨露计划: per student per year.
    'yulu_grant',
    {
      code: 'yulu_grant',
      name: '雨露计划 职业教育补助',
      unit: 'student_year',
      minFen: 200_000n,
      maxFen: 200_000n,
      needsAcceptance: false,
      needsNotice: true,
      purposes: ['education', 'general'],
    },
  ],
  [
    'housing_repair',
    {
      code: 'housing_repair',
      name: '危房改造 (修缮加固)',
      unit: 'household',
      minFen: 800_000n,
      maxFen: null,
      needsAcceptance: true,
      needsNotice: false,
      purposes: ['housing', 'general'],
    },
  ],
]);

/** Purposes (用途) by the names the ledger's reference data gives them. */
export const purposes: ReadonlyMap<string, PurposeRef> = new Map(
  (
    [
      ['general', '综合扶贫'],
      ['industry', '产业发展'],
      ['housing', '住房安全 (危房改造)'],
      ['education', '教育扶贫 (雨露计划)'],
      ['social_assistance', '社会保障兜底 (低保, 特困, 残疾人)'],
    ] as const
  ).map(([code, name]) => [code, { code, name }]),
);

export function input(overrides: Partial<RuleInput> = {}): RuleInput {
  return {
    partition: county,
    level: 'county',
    asOf: '2019-12-31',
    programmes,
    purposes,
    tranches: [],
    payments: [],
    households: [],
    membersElsewhere: [],
    notices: [],
    projects: [],
    acceptances: [],
    disbursements: [],
    ...overrides,
  };
}

export function tranche(overrides: Partial<TrancheFact> = {}): TrancheFact {
  return {
    trancheId: 't-1',
    accountId: 'pool',
    accountKind: 'pool',
    amountFen: 1_000_000n,
    remainingFen: 1_000_000n,
    purpose: 'general',
    documentNumber: '内财农〔2019〕1号',
    createdOn: '2019-01-01',
    movementKind: 'receipt',
    created: ev('AllocationReceived'),
    ...overrides,
  };
}

export function payment(overrides: Partial<PaymentFact> = {}): PaymentFact {
  return {
    paymentId: 'pay-1',
    householdId: 'H1',
    programmeCode: 'dibao',
    period: '2019-06',
    quantity: 1,
    amountFen: 19_000n,
    status: 'settled',
    instructedOn: '2019-06-20',
    noticeId: 'n-1',
    acceptanceRef: null,
    instructed: ev('PaymentInstructed'),
    pieces: [{ trancheId: 't-1', purpose: 'social_assistance', amountFen: overrides.amountFen ?? 19_000n }],
    ...overrides,
  };
}

export function household(overrides: Partial<HouseholdFact> = {}): HouseholdFact {
  const id = overrides.householdId ?? 'H1';
  return {
    householdId: id,
    villageCode: '411325100201',
    registeredOn: '2018-01-01',
    registered: ev('HouseholdRegistered', `REGISTRY_${county}`),
    status: 'registered',
    exitedOn: null,
    exited: null,
    accountHash: `acct-${id}`.padEnd(64, '0'),
    accountBound: ev('AccountBound', `REGISTRY_${county}`),
    members: [
      {
        memberNo: 1,
        idNumberHash: `id-${id}-1`.padEnd(64, '0'),
        diedOn: null,
        added: ev('HouseholdRegistered', `REGISTRY_${county}`),
        died: null,
      },
    ],
    ...overrides,
  };
}

export function disbursement(overrides: Partial<DisbursementFact> = {}): DisbursementFact {
  return {
    disbursementId: 'd-1',
    projectId: 'prj-1',
    toAccountId: 'iu-1',
    amountFen: 1_000_000n,
    acceptanceId: 'acc-1',
    disbursedOn: '2019-05-10',
    reversed: false,
    disbursed: ev('FundsDisbursed'),
    ...overrides,
  };
}
