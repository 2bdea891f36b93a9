import { formatYuan } from '@fundtrace/money';
import { describe, expect, it } from 'vitest';
import {
  aboveStandard,
  crossCountyIdentity,
  daysBetween,
  duplicatePayment,
  falseClaim,
  falseClaimV1,
  findingIdFor,
  idleFunds,
  latestRules,
  type NoticeFact,
  noticeWithoutList,
  objectionUpheldPaid,
  procedureViolation,
  procedureViolationV1,
  purposeMismatch,
  type Rule,
  type RuleInput,
  ruleSet,
  runRules,
  sharedAccount,
  splitPayment,
  withheldFunds,
} from '../src';
import { county, disbursement, ev, household, input, payment, programmes, tranche } from './fixtures';

/**
 * The books the tests below run their rules over, registered as the file is collected (describe
 * bodies run before any test, whichever tests are selected): the summaries test runs every rule
 * version over each of them itself, so it reads every wording a rule has (each branch a test here
 * raises) on its own, not from the findings of tests that happened to run before it.
 */
const booksOfThisFile: RuleInput[] = [];
function book(data: RuleInput): RuleInput {
  booksOfThisFile.push(data);
  return data;
}

const notice = (endsOn: string, openObjectionCount = 0, objections: NoticeFact['objections'] = []) => ({
  noticeId: 'n-1',
  kind: 'roster',
  programmeCode: 'dibao',
  lineCount: 0,
  status: 'closed' as const,
  startsOn: '2019-06-01',
  endsOn,
  openObjectionCount,
  published: ev('NoticePublished'),
  objections,
});

describe('daysBetween', () => {
  it('counts calendar days and refuses non-dates', () => {
    expect(daysBetween('2019-01-01', '2019-12-31')).toBe(364);
    expect(daysBetween('2019-12-31', '2019-01-01')).toBe(-364);
    expect(daysBetween('2020-02-28', '2020-03-01')).toBe(2);
    expect(() => daysBetween('2019-1-1', '2019-12-31')).toThrow(RangeError);
  });
});

describe('idle_funds (滞留)', () => {
  const params = { idleDaysMax: 180 };
  const idle = book(
    input({
      asOf: '2019-12-31',
      tranches: [
        tranche({ trancheId: 'old', createdOn: '2019-07-03' }), // 181 days
        tranche({ trancheId: 'edge', createdOn: '2019-07-04' }), // exactly 180: not yet
        tranche({ trancheId: 'spent', createdOn: '2019-01-01', remainingFen: 0n }),
        tranche({ trancheId: 'unit', createdOn: '2019-01-01', accountKind: 'implementing_unit' }),
      ],
    }),
  );
  it('finds money idle longer than the limit, not at the limit, not spent, not in unit accounts', () => {
    const found = idleFunds.run(idle, params);
    expect(found.map((f) => f.key)).toEqual(['old']);
    expect(found[0]!.amounts).toContainEqual({ label: 'idle', amountFen: 1_000_000n });
  });
  it('does not judge the books of a level that only passes money on', () => {
    const tranches = [tranche({ createdOn: '2018-01-01' })];
    expect(idleFunds.run(input({ level: 'city', partition: '410300', tranches }), params)).toEqual([]);
  });
});

describe('withheld_funds (截留)', () => {
  const tranches = [
    tranche({ trancheId: 'held', createdOn: '2019-11-30' }), // 31 days to 12-31
    tranche({ trancheId: 'fresh', createdOn: '2019-12-01' }), // 30 days
    tranche({ trancheId: 'passed', createdOn: '2019-01-01', remainingFen: 0n }),
  ];
  const city = book(input({ level: 'city', partition: '410300', tranches }));
  it('finds receipts held by a city past the pass-on deadline, not fresh or passed-on ones, not at county', () => {
    const params = { passOnDaysMax: 30 };
    expect(withheldFunds.run(city, params).map((f) => f.key)).toEqual(['held']);
    expect(withheldFunds.run(input({ tranches }), params)).toEqual([]);
  });
});

describe('purpose_mismatch (改变用途)', () => {
  const drawn = book(
    input({
      payments: [
        payment({ paymentId: 'ok' }),
        payment({
          paymentId: 'general-ok',
          pieces: [{ trancheId: 't', purpose: 'general', amountFen: 19_000n }],
        }),
        payment({
          paymentId: 'wrong',
          pieces: [{ trancheId: 't', purpose: 'industry', amountFen: 19_000n }],
        }),
        payment({ paymentId: 'unknown', programmeCode: 'no_such' }),
        payment({
          paymentId: 'returned',
          status: 'returned',
          pieces: [{ trancheId: 't', purpose: 'industry', amountFen: 19_000n }],
        }),
      ],
    }),
  );
  it('finds payments drawn from money of another purpose or for unknown programmes', () => {
    const found = purposeMismatch.run(drawn, {});
    expect(found.map((f) => f.key)).toEqual(['wrong', 'unknown']);
    // Purposes by the names the reference data gives them (fixtures' `purposes`), never by code.
    expect(found.map((f) => f.summary)).toEqual([
      `改变用途：补贴发放 wrong（农村低保）从用途为 产业发展 的资金中支用 ${formatYuan(19_000n)} 元；该补助项目只能由用途为 社会保障兜底 (低保, 特困, 残疾人)、综合扶贫 的资金支付。`,
      `改变用途：补贴发放 unknown 金额 ${formatYuan(19_000n)} 元，其补助项目 no_such 不在补助项目参考数据中。`,
    ]);
  });
});

describe('procedure_violation (程序违规)', () => {
  const noticed = book(
    input({
      payments: [
        payment({ paymentId: 'none', noticeId: null }),
        payment({ paymentId: 'unknown-notice', noticeId: 'n-x' }),
        payment({ paymentId: 'early', instructedOn: '2019-06-07' }),
        payment({ paymentId: 'after', instructedOn: '2019-06-08' }),
      ],
      notices: [notice('2019-06-07')],
    }),
  );
  it('finds payments without notice, before its end or with open objections, and not the day after', () => {
    const found = procedureViolation.run(noticed, {});
    expect(found.map((f) => f.key)).toEqual(['payment:none', 'payment:unknown-notice', 'payment:early']);
  });

  describe('objections: only payments decided while one was open (v2)', () => {
    // The ledger stream in order: payment before, objection on the notice filed, payment while
    // open, objection resolved, payment after; a line objection on H2 open throughout.
    const paidBefore = payment({ paymentId: 'before', instructed: ev('PaymentInstructed') });
    const wideFiled = ev('ObjectionFiled');
    const lineFiled = ev('ObjectionFiled');
    const paidWhileOpen = payment({ paymentId: 'while-open', instructed: ev('PaymentInstructed') });
    const otherLine = payment({
      paymentId: 'other-line',
      householdId: 'H3',
      instructed: ev('PaymentInstructed'),
    });
    const objectedLine = payment({
      paymentId: 'objected-line',
      householdId: 'H2',
      instructed: ev('PaymentInstructed'),
    });
    const wideResolved = ev('ObjectionResolved');
    const paidAfter = payment({ paymentId: 'after-resolved', instructed: ev('PaymentInstructed') });
    const lineAfter = payment({
      paymentId: 'line-still-open',
      householdId: 'H2',
      instructed: ev('PaymentInstructed'),
    });
    const objections: NoticeFact['objections'] = [
      {
        objectionId: 'o-wide',
        householdId: null,
        filed: wideFiled,
        resolved: wideResolved,
        outcome: 'dismissed',
        line: null,
      },
      { objectionId: 'o-h2', householdId: 'H2', filed: lineFiled, resolved: null, outcome: null, line: null },
    ];
    const data = book(
      input({
        payments: [paidBefore, paidWhileOpen, otherLine, objectedLine, paidAfter, lineAfter],
        notices: [notice('2019-06-07', 1, objections)],
      }),
    );

    it('flags payments made while an objection on the notice or on their line was open, none before or after', () => {
      const found = procedureViolation.run(data, {});
      expect(found.map((f) => f.key).sort()).toEqual([
        'payment:line-still-open',
        'payment:objected-line',
        'payment:other-line',
        'payment:while-open',
      ]);
      const lineOnly = found.find((f) => f.key === 'payment:line-still-open')!;
      expect(lineOnly.evidence).toContainEqual(lineFiled);
      expect(lineOnly.evidence).not.toContainEqual(wideFiled);
      expect(lineOnly.summary).toContain('o-h2');
    });

    it('v1, kept for re-runs, flagged every payment on a notice with an objection open now (why v2 exists)', () => {
      expect(procedureViolationV1.run(data, {})).toHaveLength(6);
    });

    it('runs v2 as the procedure_violation rule in use', () => {
      const raised = runRules(data).filter((f) => f.ruleId === 'procedure_violation');
      expect(raised.map((f) => f.ruleVersion)).toEqual([2, 2, 2, 2]);
    });
  });

  const acceptance = {
    acceptanceId: 'acc-1',
    projectId: 'prj-1',
    documentNumber: '验〔2019〕1号',
    acceptedOn: '2019-05-10',
    recorded: ev('AcceptanceRecorded'),
  };
  const repair = (paymentId: string, instructedOn: string, acceptanceRef: string | null) =>
    payment({
      paymentId,
      programmeCode: 'housing_repair',
      amountFen: 800_000n,
      instructedOn,
      acceptanceRef,
      pieces: [{ trancheId: 't', purpose: 'housing', amountFen: 800_000n }],
    });
  const project = {
    projectId: 'prj-1',
    reimbursement: true,
    implementingUnitAccountId: 'iu-1',
    approved: ev('ProjectApproved'),
  };
  const accepted = book(
    input({
      payments: [
        repair('same-day', '2019-05-10', '验〔2019〕1号'),
        repair('before', '2019-05-09', '验〔2019〕1号'),
        repair('without', '2019-06-01', null),
      ],
      acceptances: [acceptance],
      projects: [project, { ...project, projectId: 'prj-free', reimbursement: false }],
      disbursements: [
        disbursement({ disbursementId: 'd-ok' }),
        disbursement({ disbursementId: 'd-early', disbursedOn: '2019-05-09' }),
        disbursement({ disbursementId: 'd-none', acceptanceId: null }),
        disbursement({ disbursementId: 'd-free', projectId: 'prj-free', acceptanceId: null }),
        disbursement({ disbursementId: 'd-rev', acceptanceId: null, reversed: true }),
      ],
    }),
  );
  it('finds payments and 报账制 disbursements before acceptance, and accepts the same day', () => {
    const found = procedureViolation.run(accepted, {});
    expect(found.map((f) => f.key)).toEqual([
      'payment:before',
      'payment:without',
      'disbursement:d-early',
      'disbursement:d-none',
    ]);
  });
});

describe('notice_without_list (未公示名单)', () => {
  const published = (seq: number) => ({ stream: `LEDGER_${county}`, seq, type: 'NoticePublished' });
  const listed = (overrides: Partial<NoticeFact> = {}): NoticeFact => ({
    ...notice('2019-06-07'),
    published: published(1),
    ...overrides,
  });
  const paidAt = (paymentId: string, seq: number, overrides: Parameters<typeof payment>[0] = {}) =>
    payment({
      paymentId,
      instructed: { stream: `LEDGER_${county}`, seq, type: 'PaymentInstructed' },
      ...overrides,
    });

  const bare = book(
    input({
      notices: [
        listed({ noticeId: 'bare-roster' }),
        listed({ noticeId: 'bare-programme', kind: 'programme', published: published(2) }),
      ],
      payments: [
        paidAt('late', 30, { noticeId: 'bare-roster', householdId: 'H2', amountFen: 20_000n }),
        paidAt('early', 10, { noticeId: 'bare-roster' }),
        paidAt('settled', 11, { noticeId: 'bare-programme', status: 'instructed' }),
      ],
    }),
  );
  it('finds the payments under a programme or roster notice published without its list, one finding per notice', () => {
    const found = noticeWithoutList.run(bare, {});
    expect(found.map((f) => f.key)).toEqual(['notice:bare-roster', 'notice:bare-programme']);
    const [roster] = found;
    expect(roster!.amounts).toEqual([{ label: 'paid', amountFen: 39_000n }]);
    expect(roster!.evidence.map((e) => e.seq)).toEqual([1, 10, 30]);
    expect(roster!.subjects.map((s) => `${s.entity}:${s.id}`)).toEqual([
      'notice:bare-roster',
      'payment:early',
      'payment:late',
    ]);
    expect(roster!.summary).toBe(
      `未公示名单：发放名单公示 bare-roster（农村低保，2019-06-01 至 2019-06-07）发布时未公布户名单，其下已发放 2 笔共 ${formatYuan(39_000n)} 元，涉及 2 户。`,
    );
  });

  it('admits a notice with its list, allocation and project notices, notices nobody was paid under, and payments that came back', () => {
    const notices = [
      listed({ noticeId: 'with-list', lineCount: 3 }),
      listed({ noticeId: 'allocation', kind: 'allocation', programmeCode: null }),
      listed({ noticeId: 'project', kind: 'project', programmeCode: null }),
      listed({ noticeId: 'unpaid' }),
      listed({ noticeId: 'returned' }),
      listed({ noticeId: 'no-notice-needed' }),
    ];
    const payments = [
      paidAt('p1', 10, { noticeId: 'with-list' }),
      paidAt('p2', 11, { noticeId: 'allocation' }),
      paidAt('p3', 12, { noticeId: 'project' }),
      paidAt('p4', 13, { noticeId: 'returned', status: 'returned' }),
      paidAt('p5', 14, { noticeId: 'returned', status: 'reversed' }),
      // A programme that needs no notice (and one the reference data lacks: purpose_mismatch reports it).
      paidAt('p6', 15, { noticeId: 'no-notice-needed', programmeCode: 'housing_repair' }),
      paidAt('p7', 16, { noticeId: 'no-notice-needed', programmeCode: 'unknown' }),
      paidAt('p8', 17, { noticeId: null }),
    ];
    expect(noticeWithoutList.run(input({ notices, payments }), {})).toEqual([]);
  });

  const big = book(
    input({
      notices: [listed({ noticeId: 'big' })],
      payments: Array.from({ length: 150 }, (_, i) =>
        paidAt(`r${i}`, 150 - i, { householdId: `H${i}`, noticeId: 'big' }),
      ),
    }),
  );
  it('cites at most 99 payments of a large roster and says so, keeping the full count and sum', () => {
    const [found, ...rest] = noticeWithoutList.run(big, {});
    expect(rest).toEqual([]);
    expect(found!.subjects).toHaveLength(100);
    expect(found!.evidence.map((e) => e.seq)).toEqual([1, ...Array.from({ length: 99 }, (_, i) => i + 1)]);
    expect(found!.amounts).toEqual([{ label: 'paid', amountFen: 150n * 19_000n }]);
    expect(found!.summary).toMatch(
      /^未公示名单：.*已发放 150 笔共 .* 元，涉及 150 户，本预警引用其中前 99 笔。$/,
    );
    // Through runRules the draft must also fit FindingRaised's limits.
    const raised = runRules(big, [noticeWithoutList as never]);
    expect(raised).toHaveLength(1);
  });
});

describe('objection_upheld_paid (异议成立仍发放)', () => {
  const at = (type: string, seq: number) => ({ stream: `LEDGER_${county}`, seq, type });
  const paidAt = (paymentId: string, seq: number, overrides: Parameters<typeof payment>[0] = {}) =>
    payment({ paymentId, instructed: at('PaymentInstructed', seq), ...overrides });
  const objection = (
    objectionId: string,
    householdId: string | null,
    filedSeq: number,
    resolvedSeq: number | null,
    outcome: 'upheld' | 'dismissed' | null,
    lineNo: number | null = null,
  ): NoticeFact['objections'][number] => ({
    objectionId,
    householdId,
    filed: at('ObjectionFiled', filedSeq),
    resolved: resolvedSeq === null ? null : at('ObjectionResolved', resolvedSeq),
    outcome,
    line: lineNo === null ? null : { lineNo, published: at('NoticeLinesPublished', 2) },
  });
  // One listed notice (published at 1, its lines at 2); payments at 10-19, objections filed at 20
  // and later, resolved at 30 and later: every payment was made before its objection was filed.
  const listed: NoticeFact = {
    ...notice('2019-06-07', 1, [
      objection('o-h1', 'H1', 20, 30, 'upheld', 1),
      objection('o-h2', 'H2', 21, 31, 'upheld', 2),
      objection('o-h3', 'H3', 22, 32, 'upheld', 3),
      objection('o-h4', 'H4', 23, 33, 'dismissed', 4),
      objection('o-h5', 'H5', 24, null, null, 5),
      objection('o-wide', null, 25, 35, 'upheld'),
    ]),
    lineCount: 6,
    published: at('NoticePublished', 1),
  };
  const payments = [
    paidAt('pay-h1', 10, { householdId: 'H1', status: 'settled' }),
    paidAt('pay-h2', 11, { householdId: 'H2', status: 'instructed', amountFen: 38_000n, quantity: 2 }),
    paidAt('pay-h3-returned', 12, { householdId: 'H3', status: 'returned' }),
    paidAt('pay-h3-reversed', 13, { householdId: 'H3', status: 'reversed' }),
    paidAt('pay-h4-dismissed', 14, { householdId: 'H4' }),
    paidAt('pay-h5-open', 15, { householdId: 'H5' }),
    paidAt('pay-h6-wide-only', 16, { householdId: 'H6' }),
    paidAt('pay-h1-other-notice', 17, { householdId: 'H1', noticeId: 'n-2', period: '2019-07' }),
  ];

  const upheld = book(input({ notices: [listed], payments }));
  it('finds the payments still booked to a line whose objection was upheld, one per payment, citing payment, line and objection', () => {
    const found = objectionUpheldPaid.run(upheld, {});
    expect(found.map((f) => f.key)).toEqual(['payment:pay-h1', 'payment:pay-h2']);
    const [h1, h2] = found;
    expect(h1!.severity).toBe('high');
    expect(h1!.evidence.map((e) => `${e.type}#${e.seq}`)).toEqual([
      'PaymentInstructed#10',
      'NoticeLinesPublished#2',
      'ObjectionFiled#20',
      'ObjectionResolved#30',
    ]);
    expect(h1!.subjects.map((s) => `${s.context}:${s.entity}:${s.id}`)).toEqual([
      'ledger:payment:pay-h1',
      'registry:household:H1',
      'ledger:notice:n-1',
      'ledger:objection:o-h1',
    ]);
    expect(h2!.amounts).toEqual([{ label: 'paid', amountFen: 38_000n }]);
    expect(h2!.summary).toBe(
      `异议成立仍发放：公示 n-1 第 2 行的户 H2 异议成立，补贴发放 pay-h2（农村低保，2019-06）金额 ${formatYuan(38_000n)} 元，款项发放中，未退回也未冲正；成立的异议：o-h2（发放在异议提出之前）。`,
    );
  });

  it('raises nothing once the payment is returned or reversed, for a dismissed or open objection, or an upheld one on the whole notice', () => {
    const quiet = payments.filter((p) => p.householdId !== 'H1' && p.householdId !== 'H2');
    expect(objectionUpheldPaid.run(input({ notices: [listed], payments: quiet }), {})).toEqual([]);
    // The same payment, reversed (冲正) after the finding was raised: a re-run raises nothing for it.
    const reversed = payments.map((p) =>
      p.paymentId === 'pay-h1' ? { ...p, status: 'reversed' as const } : p,
    );
    expect(
      objectionUpheldPaid.run(input({ notices: [listed], payments: reversed }), {}).map((f) => f.key),
    ).toEqual(['payment:pay-h2']);
  });

  const unlisted = book(
    input({
      notices: [
        {
          ...listed,
          lineCount: 0,
          objections: [
            objection('o-open', 'H1', 20, 30, 'upheld'),
            objection('o-after', 'H2', 21, 22, 'upheld'),
          ],
        },
      ],
      payments: [paidAt('while-open', 25, { householdId: 'H1' }), paidAt('after', 40, { householdId: 'H2' })],
    }),
  );
  it('says when it was paid, and cites the notice when it was published without a list', () => {
    const found = objectionUpheldPaid.run(unlisted, {});
    expect(found.map((f) => f.evidence[1])).toEqual([listed.published, listed.published]);
    expect(found[0]!.summary).toContain('公示 n-1 中的户 H1 异议成立');
    expect(found[0]!.summary).toContain('款项已到账');
    expect(found[0]!.summary).toContain('o-open（发放时异议尚在处理）');
    expect(found[1]!.summary).toContain('o-after（发放在异议成立之后）');
  });

  const many = Array.from({ length: 120 }, (_, i) =>
    objection(`o-${i}`, 'H1', 100 + i, 300 + i, 'upheld', 1),
  );
  const manyUpheld = book(input({ notices: [{ ...listed, objections: many }], payments: [payments[0]!] }));
  it('cites at most 97 upheld objections of one line, naming how many more, within FindingRaised limits', () => {
    const data = manyUpheld;
    const [found, ...rest] = objectionUpheldPaid.run(data, {});
    expect(rest).toEqual([]);
    expect(found!.subjects).toHaveLength(100);
    expect(found!.summary).toMatch(/，另有 23 件。$/);
    expect(runRules(data, [objectionUpheldPaid as never])).toHaveLength(1);
  });
});

describe('false_claim and duplicate_payment (虚报冒领)', () => {
  const claimed = (() => {
    const dead = household({
      householdId: 'H-dead',
      members: [
        {
          memberNo: 1,
          idNumberHash: 'x'.repeat(64),
          diedOn: '2019-03-01',
          added: ev('HouseholdRegistered', `REGISTRY_${county}`),
          died: ev('MemberDeceased', `REGISTRY_${county}`),
        },
      ],
    });
    return book(
      input({
        households: [
          household(),
          household({
            householdId: 'H-removed',
            status: 'removed',
            exitedOn: '2019-05-01',
            exited: ev('HouseholdExited'),
          }),
          household({
            householdId: 'H-removed-later',
            status: 'removed',
            exitedOn: '2019-07-01',
            exited: ev('HouseholdExited'),
          }),
          household({
            householdId: 'H-lifted',
            status: 'lifted',
            exitedOn: '2019-05-01',
            exited: ev('HouseholdExited'),
          }),
          dead,
        ],
        payments: [
          payment({ paymentId: 'ok' }),
          payment({ paymentId: 'ghost', householdId: 'H-none' }),
          payment({ paymentId: 'removed', householdId: 'H-removed' }),
          payment({ paymentId: 'removed-later', householdId: 'H-removed-later' }),
          payment({ paymentId: 'lifted', householdId: 'H-lifted' }),
          payment({ paymentId: 'dead', householdId: 'H-dead' }),
          payment({ paymentId: 'two-persons', quantity: 2, amountFen: 38_000n }),
        ],
      }),
    );
  })();
  it('finds payments to unregistered, removed and deceased households; lifted ones stay eligible', () => {
    const found = falseClaim.run(claimed, {});
    expect(found.map((f) => f.key)).toEqual([
      'payment:ghost',
      'payment:removed',
      'payment:dead',
      'payment:two-persons',
    ]);
  });

  describe('persons paid, counted as the ledger writer counts them (member_deceased)', () => {
    // Three members registered; member 3 died on 2019-03-01, before every payment below.
    const widowed = household({
      householdId: 'H-three',
      members: [1, 2, 3].map((memberNo) => ({
        memberNo,
        idNumberHash: `id-three-${memberNo}`.padEnd(64, '0'),
        diedOn: memberNo === 3 ? '2019-03-01' : null,
        added: ev('HouseholdRegistered', `REGISTRY_${county}`),
        died: memberNo === 3 ? ev('MemberDeceased', `REGISTRY_${county}`) : null,
      })),
    });
    const alive = household({
      householdId: 'H-alive',
      members: widowed.members.map((m) => ({ ...m, diedOn: null, died: null })),
    });
    const quarter = (paymentId: string, householdId: string, quantity: number) =>
      payment({
        paymentId,
        householdId,
        programmeCode: 'dibao_monthly',
        period: '2019-Q2',
        quantity,
        amountFen: 19_000n * BigInt(quantity),
        instructedOn: '2019-06-20',
      });
    const students = (paymentId: string, householdId: string, quantity: number) =>
      payment({
        paymentId,
        householdId,
        programmeCode: 'yulu_grant',
        period: '2019',
        quantity,
        amountFen: 200_000n * BigInt(quantity),
        instructedOn: '2019-09-10',
      });
    const data = book(
      input({
        households: [alive, widowed],
        payments: [
          quarter('q-alive', 'H-alive', 9), // three living persons, three months: not 9 persons
          quarter('q-living', 'H-three', 6), // the two living members for the quarter
          quarter('q-dead-paid', 'H-three', 9), // the dead member paid as alive
          students('yulu-alive', 'H-alive', 2),
          students('yulu-living', 'H-three', 2),
          students('yulu-dead-paid', 'H-three', 3),
        ],
      }),
    );

    it('does not flag a quarter of person-months for a household of three; flags the dead member paid as alive', () => {
      const found = falseClaim.run(data, {});
      expect(falseClaim.version).toBe(2);
      expect(found.map((f) => f.key).sort()).toEqual(['payment:q-dead-paid', 'payment:yulu-dead-paid']);
      const quarterFound = found.find((f) => f.key === 'payment:q-dead-paid')!;
      expect(quarterFound.summary).toContain('按 3 人发放（2019-Q2 数量 9），2019-06-20 在世的只有 2 人');
      expect(quarterFound.evidence.map((e) => e.type)).toEqual(['PaymentInstructed', 'MemberDeceased']);
      expect(found.find((f) => f.key === 'payment:yulu-dead-paid')!.summary).toContain(
        '按 3 人发放，2019-09-10 在世的只有 2 人',
      );
    });

    it('agrees with the writer on every quantity: flagged exactly when ledger.personsPaid exceeds the living', () => {
      for (let quantity = 1; quantity <= 12; quantity++) {
        const flagged = falseClaim.run(
          input({ households: [widowed], payments: [quarter('q', 'H-three', quantity)] }),
          {},
        );
        // Two living members for three months: up to 6 person-months is theirs (ceil(q / 3) ≤ 2).
        expect(flagged.length, `quantity ${quantity}`).toBe(quantity > 6 ? 1 : 0);
      }
    });

    it('v1, kept for re-runs, read person-months as persons and ignored students (why v2 exists)', () => {
      const found = falseClaimV1.run(data, {});
      expect(found.map((f) => f.key).sort()).toEqual([
        'payment:q-alive',
        'payment:q-dead-paid',
        'payment:q-living',
      ]);
    });

    it('runs v2 as the false_claim rule in use, with findings of its own version', () => {
      const raised = runRules(data).filter((f) => f.ruleId === 'false_claim');
      expect(raised.map((f) => f.ruleVersion)).toEqual([2, 2]);
      expect(raised.map((f) => f.findingId).sort()).toEqual(
        [
          findingIdFor('false_claim', 2, county, 'payment:q-dead-paid'),
          findingIdFor('false_claim', 2, county, 'payment:yulu-dead-paid'),
        ].sort(),
      );
    });
  });

  const twice = book(
    input({
      payments: [
        payment({ paymentId: 'a1' }),
        payment({ paymentId: 'a2' }),
        payment({ paymentId: 'b1', householdId: 'H2', status: 'returned' }),
        payment({ paymentId: 'b2', householdId: 'H2' }),
        payment({ paymentId: 'c1', householdId: 'H3', period: '2019-06' }),
        payment({ paymentId: 'c2', householdId: 'H3', period: '2019-07' }),
      ],
    }),
  );
  it('finds the same household paid twice for one period, not a returned-and-repaid one or other periods', () => {
    const found = duplicatePayment.run(twice, {});
    expect(found.map((f) => f.key)).toEqual(['H1|dibao|2019-06']);
    expect(found[0]!.amounts).toContainEqual({ label: 'excess', amountFen: 19_000n });
  });
});

describe('shared_account (一卡多户) and cross_county_identity', () => {
  it('finds one account bound to several households, not distinct ones', () => {
    const shared = 'a'.repeat(64);
    const found = sharedAccount.run(
      input({
        households: [
          household({ householdId: 'H1', accountHash: shared }),
          household({ householdId: 'H2', accountHash: shared }),
          household({ householdId: 'H3' }),
          household({ householdId: 'H4', accountHash: null, accountBound: null }),
        ],
      }),
      {},
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.subjects.map((s) => s.id)).toEqual(['H1', 'H2']);
  });

  it('finds an ID hash registered in another county, not in the same county', () => {
    const h = household();
    const hash = h.members[0]!.idNumberHash;
    const elsewhere = (partition: string) => ({
      partition,
      householdId: 'X9',
      idNumberHash: hash,
      added: ev('HouseholdRegistered', `REGISTRY_${partition}`),
    });
    expect(
      crossCountyIdentity.run(input({ households: [h], membersElsewhere: [elsewhere(county)] }), {}),
    ).toEqual([]);
    const found = crossCountyIdentity.run(
      input({ households: [h], membersElsewhere: [elsewhere('411221')] }),
      {},
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.evidence.map((e) => e.stream)).toEqual([`REGISTRY_${county}`, 'REGISTRY_411221']);
  });
});

describe('above_standard (超标准)', () => {
  it('compares with the cap times the quantity; floors alone are never exceeded', () => {
    const found = aboveStandard.run(
      input({
        payments: [
          payment({ paymentId: 'at-cap', amountFen: 228_000n }),
          payment({ paymentId: 'over', amountFen: 228_001n }),
          payment({ paymentId: 'two', quantity: 2, amountFen: 456_000n }),
          payment({ paymentId: 'repair', programmeCode: 'housing_repair', amountFen: 9_999_999n }),
        ],
      }),
      {},
    );
    expect(found.map((f) => f.key)).toEqual(['over']);
    expect(found[0]!.amounts).toContainEqual({ label: 'excess', amountFen: 1n });
  });
});

describe('split_payment', () => {
  const params = { approvalThresholdFen: 3_000_000n, windowDays: 30 };
  it('finds disbursements under the threshold that reach it within the window', () => {
    const found = splitPayment.run(
      input({
        disbursements: [
          disbursement({ disbursementId: 's1', amountFen: 1_500_000n, disbursedOn: '2019-05-01' }),
          disbursement({ disbursementId: 's2', amountFen: 1_500_000n, disbursedOn: '2019-05-31' }),
          // Same pattern but 31 days apart: not one window.
          disbursement({
            disbursementId: 'w1',
            projectId: 'p2',
            amountFen: 1_500_000n,
            disbursedOn: '2019-05-01',
          }),
          disbursement({
            disbursementId: 'w2',
            projectId: 'p2',
            amountFen: 1_500_000n,
            disbursedOn: '2019-06-01',
          }),
          // Together just under the threshold.
          disbursement({ disbursementId: 'u1', projectId: 'p3', amountFen: 1_499_999n }),
          disbursement({ disbursementId: 'u2', projectId: 'p3', amountFen: 1_500_000n }),
          // One large payment that went through approval is no split.
          disbursement({ disbursementId: 'big', projectId: 'p4', amountFen: 3_000_000n }),
        ],
      }),
      params,
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.evidence).toHaveLength(2);
  });
});

describe('runRules', () => {
  it('gives deterministic, versioned finding ids and the same findings on a re-run', () => {
    const data = input({ payments: [payment({ paymentId: 'a1' }), payment({ paymentId: 'a2' })] });
    const first = runRules(data);
    const second = runRules(data);
    expect(second).toEqual(first);
    const dup = first.find((f) => f.ruleId === 'duplicate_payment')!;
    expect(dup.findingId).toBe(findingIdFor('duplicate_payment', 1, county, 'H1|dibao|2019-06'));
    expect(dup.findingId).toMatch(/^duplicate_payment-v1-[0-9a-f]{24}$/);
    expect(findingIdFor('duplicate_payment', 2, county, 'H1|dibao|2019-06')).not.toBe(dup.findingId);
  });

  it('applies parameter overrides per rule and keeps one version of each rule', () => {
    const data = input({ tranches: [tranche({ createdOn: '2019-12-01' })] });
    expect(runRules(data).filter((f) => f.ruleId === 'idle_funds')).toEqual([]);
    expect(runRules(data, latestRules(), { idle_funds: { idleDaysMax: 10 } }).map((f) => f.ruleId)).toEqual([
      'idle_funds',
    ]);
    const ids = latestRules().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(12);
  });
});

describe('rule descriptions (GET /v1/rules, fundtrace rules list)', () => {
  it('are one Chinese sentence each, with no Latin words, for every rule version', () => {
    for (const rule of ruleSet) {
      const at = `${rule.id}@${rule.version}`;
      // As a 预警 summary reads (0125): a Chinese label, a full-width colon, one sentence ending in 。.
      expect(rule.description, at).toMatch(/^\p{Script=Han}+：[^。]+。$/u);
      // Parameters are the defaults listed beside it: the sentence names none by its code.
      expect(rule.description, at).not.toMatch(/\p{Script=Latin}/u);
    }
  });

  it('open with the label of their summaries (decision 0125)', () => {
    const labels = Object.fromEntries(ruleSet.map((r) => [r.id, r.description.split('：')[0]]));
    expect(labels).toEqual({
      idle_funds: '资金滞留',
      withheld_funds: '资金截留',
      purpose_mismatch: '改变用途',
      procedure_violation: '程序违规',
      notice_without_list: '未公示名单',
      objection_upheld_paid: '异议成立仍发放',
      false_claim: '虚报冒领',
      duplicate_payment: '重复发放',
      shared_account: '一卡多户',
      cross_county_identity: '跨县重复登记',
      above_standard: '超标准发放',
      split_payment: '拆分支付',
    });
  });
});

describe('summaries', () => {
  /** Books on which every rule version raises at least one finding. */
  function everyRuleVersionBooks(): RuleInput[] {
    const shared = 'a'.repeat(64);
    const h1 = household({ householdId: 'H1', accountHash: shared });
    const countyData = input({
      tranches: [tranche({ createdOn: '2019-01-01' })],
      payments: [
        payment({ paymentId: 'p1', householdId: 'HX', noticeId: null, amountFen: 1_000_000n }),
        payment({ paymentId: 'p2', householdId: 'HX', noticeId: null, amountFen: 1_000_000n }),
        payment({
          paymentId: 'p3',
          householdId: 'HX',
          period: '2019-07',
          pieces: [{ trancheId: 't-1', purpose: 'industry', amountFen: 1_000_000n }],
          amountFen: 1_000_000n,
        }),
      ],
      notices: [
        notice('2019-06-07', 0, [
          {
            objectionId: 'o-hx',
            householdId: 'HX',
            filed: ev('ObjectionFiled'),
            resolved: ev('ObjectionResolved'),
            outcome: 'upheld',
            line: null,
          },
        ]),
      ],
      households: [h1, household({ householdId: 'H2', accountHash: shared })],
      membersElsewhere: [
        {
          partition: '411221',
          householdId: 'X9',
          idNumberHash: h1.members[0]!.idNumberHash,
          added: ev('HouseholdRegistered', 'REGISTRY_411221'),
        },
      ],
      disbursements: [
        disbursement({ disbursementId: 's1', amountFen: 1_500_000n, disbursedOn: '2019-05-01' }),
        disbursement({ disbursementId: 's2', amountFen: 1_500_000n, disbursedOn: '2019-05-02' }),
      ],
    });
    const cityData = input({
      level: 'city',
      partition: '410300',
      tranches: [tranche({ createdOn: '2019-01-01', remainingFen: 350_000_000n })],
    });
    return [countyData, cityData];
  }

  function raisedByEveryRuleVersion() {
    return everyRuleVersionBooks().flatMap((data) => runRules(data, ruleSet));
  }

  it('write money as the money package does ("10,000.00 元") in every rule version, and leave ids alone', () => {
    const raised = raisedByEveryRuleVersion();
    const versions = (list: readonly { ruleId: string; ruleVersion: number }[]) =>
      [...new Set(list.map((f) => `${f.ruleId}@${f.ruleVersion}`))].sort();
    expect(versions(raised)).toEqual(
      versions(ruleSet.map((r) => ({ ruleId: r.id, ruleVersion: r.version }))),
    );
    for (const f of raised) {
      expect(f.summary, f.ruleId).not.toMatch(/\d{4}\.\d{2}|\d元/);
      for (const [, text] of f.summary.matchAll(/([\d,]+\.\d{2})(?! 元)/g)) {
        expect.fail(`${f.ruleId}: ${text} without " 元" in ${f.summary}`);
      }
    }
    const withheld = raised.find((f) => f.ruleId === 'withheld_funds')!;
    expect(withheld.summary).toContain(`${formatYuan(350_000_000n)} 元`);
    expect(withheld.summary).toContain('3,500,000.00 元');
    // The id hashes rule, version, partition and key only: a summary's wording never changes it.
    const dup = raised.find((f) => f.ruleId === 'duplicate_payment')!;
    expect(dup.findingId).toBe(findingIdFor('duplicate_payment', 1, county, 'HX|dibao|2019-06'));
  });

  it('name programmes as the reference data does (农村低保), never by code (dibao), in every rule version', () => {
    const raised = raisedByEveryRuleVersion();
    const codes = [...programmes.keys()];
    const codeAsWord = new RegExp(`(^|[^a-z_])(${codes.join('|')})($|[^a-z_])`);
    const citingProgrammes = raised.filter((f) =>
      f.evidence.some((e) => e.type === 'PaymentInstructed' || e.type === 'NoticePublished'),
    );
    // Every rule about payments or programme notices is in this set, one version or another.
    expect(new Set(citingProgrammes.map((f) => f.ruleId))).toEqual(
      new Set([
        'purpose_mismatch',
        'procedure_violation',
        'notice_without_list',
        'objection_upheld_paid',
        'false_claim',
        'duplicate_payment',
        'above_standard',
      ]),
    );
    for (const f of raised) expect(f.summary, f.ruleId).not.toMatch(codeAsWord);
    for (const f of citingProgrammes) expect(f.summary, f.ruleId).toContain(programmes.get('dibao')!.name);
  });

  /**
   * What a summary may quote as it is: the identifiers of the books it cites (document numbers,
   * account, tranche, payment, household, notice, objection, project and disbursement ids, periods)
   * and a programme code the reference data has no name for. Programme and purpose codes it knows
   * are not among them: those are named (农村低保, 产业发展).
   */
  function identifiersOf(data: RuleInput): string[] {
    const ids = [
      ...data.tranches.flatMap((t) => [t.trancheId, t.accountId, t.documentNumber]),
      ...data.payments.flatMap((p) => [
        p.paymentId,
        p.householdId,
        p.noticeId ?? '',
        p.period,
        p.acceptanceRef ?? '',
        data.programmes.has(p.programmeCode) ? '' : p.programmeCode,
      ]),
      ...data.households.map((h) => h.householdId),
      ...data.membersElsewhere.flatMap((m) => [m.partition, m.householdId]),
      ...data.notices.flatMap((n) => [n.noticeId, ...n.objections.map((o) => o.objectionId)]),
      ...data.projects.flatMap((p) => [p.projectId, p.implementingUnitAccountId]),
      ...data.acceptances.flatMap((a) => [a.acceptanceId, a.documentNumber]),
      ...data.disbursements.flatMap((d) => [d.disbursementId, d.projectId, d.toAccountId]),
    ];
    // Longest first, so an id that contains another (pay-1, pay-10) is removed whole.
    return [...new Set(ids)].filter((id) => id !== '').sort((a, b) => b.length - a.length);
  }

  // Every rule version over every book of this file reads some 90 wordings: each branch of each rule
  // (no notice, before acceptance, paid while an objection was open …) that a test above raises. The
  // findings are built here, so the test reads them all when it runs alone (`-t`) as well.
  it('are one Chinese sentence with no English words, only the identifiers they cite, for every rule version and wording', () => {
    const raised = [...booksOfThisFile, ...everyRuleVersionBooks()].flatMap((data) =>
      (ruleSet as unknown as Rule<unknown>[]).flatMap((rule) =>
        rule
          .run(data, rule.defaults)
          .map((f) => ({ rule: `${rule.id}@${rule.version}`, data, summary: f.summary })),
      ),
    );
    expect(new Set(raised.map((r) => r.rule))).toEqual(new Set(ruleSet.map((r) => `${r.id}@${r.version}`)));
    const checked = new Set<string>();
    for (const { rule, data, summary } of raised) {
      if (checked.has(summary)) continue;
      checked.add(summary);
      // 预警 notice register: a Chinese label, a full-width colon, one sentence ending in 。.
      expect(summary, rule).toMatch(/^\p{Script=Han}+：[^。]+。$/u);
      let rest = summary;
      for (const id of identifiersOf(data)) rest = rest.replaceAll(id, ' ');
      expect(rest, `${rule}: ${summary}`).not.toMatch(/[A-Za-z]{2,}/);
    }
    // Each branch of a summary, read here on the file's books: fewer means a book went missing.
    const branches = [
      '未经公示',
      '才期满',
      '尚未处理',
      '未经验收',
      '的验收',
      '截至发放日',
      '尚未建档登记',
      '销号',
      '均已死亡',
      '在世的只有',
      '本预警引用其中前',
      '发放在异议提出之前',
      '发放时异议尚在处理',
      '发放在异议成立之后',
      '，另有',
      '不在补助项目参考数据中',
      '款项发放中',
      '款项已到账',
    ];
    const all = [...checked].join('\n');
    expect(branches.filter((branch) => !all.includes(branch))).toEqual([]);
  });
});
