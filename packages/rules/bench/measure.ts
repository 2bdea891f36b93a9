/**
 * How long the pure rules take over a county-sized input (no database): `pnpm exec tsx
 * packages/rules/bench/measure.ts [payments]`. Prints wall time per rule; a measurement, not a test.
 */
import { performance } from 'node:perf_hooks';
import { latestRules, type PaymentFact, type RuleInput, runRules } from '../src';

const payments = Number(process.argv[2] ?? 100_000);
const households = Math.ceil(payments / 12);
const ref = (seq: number, type: string) => ({ stream: 'LEDGER_411325', seq, type });
const input: RuleInput = {
  partition: '411325',
  level: 'county',
  asOf: '2019-12-31',
  programmes: new Map([
    [
      'dibao_class1',
      {
        code: 'dibao_class1',
        name: '农村低保 一类',
        unit: 'person_month',
        minFen: null,
        maxFen: 19_000n,
        needsAcceptance: false,
        needsNotice: true,
        purposes: ['social_assistance'],
      },
    ],
  ]),
  purposes: new Map([['social_assistance', { code: 'social_assistance', name: '社会保障兜底' }]]),
  tranches: [],
  payments: Array.from(
    { length: payments },
    (_, i): PaymentFact => ({
      paymentId: `p${i}`,
      householdId: `H${i % households}`,
      programmeCode: 'dibao_class1',
      period: `2019-${String((Math.floor(i / households) % 12) + 1).padStart(2, '0')}`,
      quantity: 1,
      amountFen: 19_000n,
      status: 'settled',
      instructedOn: '2019-08-01',
      noticeId: 'n',
      acceptanceRef: null,
      instructed: ref(i + 1, 'PaymentInstructed'),
      pieces: [{ trancheId: 't', purpose: 'social_assistance', amountFen: 19_000n }],
    }),
  ),
  households: Array.from({ length: households }, (_, i) => ({
    householdId: `H${i}`,
    villageCode: '411325100201',
    registeredOn: '2018-01-01',
    registered: { stream: 'REGISTRY_411325', seq: i + 1, type: 'HouseholdRegistered' },
    status: 'registered' as const,
    exitedOn: null,
    exited: null,
    accountHash: `a${i}x`.padEnd(64, '0'),
    accountBound: null,
    members: [
      {
        memberNo: 1,
        idNumberHash: `i${i}x`.padEnd(64, '0'),
        diedOn: null,
        added: ref(i, 'HouseholdRegistered'),
        died: null,
      },
    ],
  })),
  membersElsewhere: [],
  notices: [
    {
      noticeId: 'n',
      kind: 'programme',
      programmeCode: 'dibao_class1',
      lineCount: 0, // no list: notice_without_list takes its longest path
      status: 'closed',
      startsOn: '2019-01-01',
      endsOn: '2019-01-10',
      openObjectionCount: 0,
      published: ref(0, 'NoticePublished'),
      objections: [],
    },
  ],
  projects: [],
  acceptances: [],
  disbursements: [],
};
for (const rule of latestRules()) {
  const started = performance.now();
  const found = runRules(input, [rule]);
  console.log(
    `${rule.id.padEnd(22)} ${String(found.length).padStart(6)} findings ${(performance.now() - started).toFixed(1).padStart(8)} ms`,
  );
}
const started = performance.now();
runRules(input);
console.log(
  `all rules over ${payments} payments, ${households} households: ${(performance.now() - started).toFixed(0)} ms`,
);
