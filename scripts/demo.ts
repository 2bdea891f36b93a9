// The demo county: what `npm start` loads on first run, through the same HTTP APIs
// a finance officer and a registry clerk use. Every command id is fixed, so
// running it twice changes nothing (each repeat answers `duplicate: true`).
import { callApi } from '@fundtrace/cli';
import { generateHouseholds, generateVillages, townshipsOf } from '@fundtrace/pii';

export const demoCounty = '411325'; // 内乡县
/** central → 河南 → 南阳 → 内乡: the levels the money passes on its way to the county. */
export const demoChain = ['000000', '410000', '411300', demoCounty] as const;
const demoHouseholds = 300;
const demoVillages = 24;
const demoYear = 2024;
/** 低保 class 1: 2,280 元 per person per year (000 L562), paid monthly at 190 元. */
const dibaoMonthlyFen = 19_000n;

interface Endpoints {
  services: Record<string, string | undefined>;
  tokens: Record<string, string>;
}

/**
 * Names of the demo county's townships and villages (code → name) for the notice board's
 * NOTICE_GAZETTEER_FILE: the books carry codes only, and a villager looks for 马山口镇, not 411325105.
 */
export function demoGazetteer(): Record<string, string> {
  const names: Record<string, string> = {};
  for (const township of townshipsOf(demoCounty)) names[township.code] = township.name;
  for (const village of generateVillages(demoCounty, demoVillages)) names[village.code] = village.name;
  return names;
}

/** The demo's households as registry staff type them (the same every run). */
export function demoHouseholdInputs() {
  return generateHouseholds({
    county: demoCounty,
    villages: demoVillages,
    count: demoHouseholds,
    seed: 'demo',
  });
}

/**
 * Asks the log-keeper to sign every demo stream's tree at its current length, so traces and evidence
 * are provable at once instead of after the keeper's first scheduled checkpoint (a minute). Returns
 * what could not be signed, for the person at the terminal.
 */
export async function signDemoCheckpoints(endpoints: Endpoints): Promise<string[]> {
  const ledgerUrl = endpoints.services['ledger-api'];
  const keeperUrl = endpoints.services['log-keeper'];
  if (!ledgerUrl || !keeperUrl) return ['ledger-api or log-keeper is not running'];
  const problems: string[] = [];
  const sign = async (stream: string, atLeastSize: number) => {
    if (atLeastSize === 0) return;
    try {
      await callApi({
        baseUrl: keeperUrl,
        path: `/v1/checkpoints/${stream}`,
        token: endpoints.tokens.inspector!,
        body: { atLeastSize },
      });
    } catch (error) {
      problems.push(`${stream}: ${(error as Error).message}`);
    }
  };
  for (const partition of demoChain) {
    const summary = await callApi<{ seq: number; registrySeq: number }>({
      baseUrl: ledgerUrl,
      path: `/v1/partitions/${partition}/summary`,
      token: endpoints.tokens.finance!,
    });
    await sign(`LEDGER_${partition}`, summary.seq);
    if (partition === demoCounty) await sign(`REGISTRY_${partition}`, summary.registrySeq);
  }
  return problems;
}

const yuan = (amount: number) => (BigInt(amount) * 100n).toString();

export async function loadDemo(endpoints: Endpoints): Promise<Record<string, unknown>> {
  const ledgerUrl = endpoints.services['ledger-api'];
  const registryUrl = endpoints.services['registry-api'];
  if (!ledgerUrl || !registryUrl) throw new Error('the demo needs ledger-api and registry-api running');
  const finance = endpoints.tokens.finance!;
  const registry = endpoints.tokens.registry!;
  // Business dates (occurredAt) follow the 2024 budget year, so traces and notices read as they would
  // in a real county: appropriation in March, the road accepted in May, 低保 paid in June.
  let businessDay = `${demoYear}-03-01`;
  const on = (day: string) => {
    businessDay = day;
  };
  const ledger = (partition: string, path: string, body: Record<string, unknown>, commandId: string) =>
    callApi<Record<string, unknown>>({
      baseUrl: ledgerUrl,
      path: `/v1/partitions/${partition}/${path}`,
      token: finance,
      body: { commandId, occurredAt: `${businessDay}T09:00:00+08:00`, ...body },
    });

  // 1. Households (建档立卡): realistic names, valid ID numbers, villages of 内乡县.
  const households = demoHouseholdInputs();
  for (const household of households) {
    await callApi({
      baseUrl: registryUrl,
      path: `/v1/partitions/${demoCounty}/households`,
      token: registry,
      body: { commandId: `demo-register-${household.householdId}`, household },
    });
  }

  // 2. Pools at every level, a central appropriation, and allocations down the chain (下达 / 到账).
  for (const partition of demoChain) {
    await ledger(
      partition,
      'accounts',
      { accountId: 'POOL', kind: 'pool', name: `${partition} 扶贫资金专户` },
      `demo-pool-${partition}`,
    );
  }
  await ledger(
    '000000',
    'receipts',
    {
      receiptId: `BUDGET-${demoYear}`,
      accountId: 'POOL',
      amountFen: yuan(50_000_000),
      origin: {
        kind: 'external',
        payer: '中央财政',
        documentNumber: `财预〔${demoYear}〕1号`,
        fundSource: 'central',
        purpose: 'general',
        fiscalYear: demoYear,
      },
    },
    'demo-budget',
  );
  const amounts = [20_000_000, 8_000_000, 3_000_000];
  for (let i = 0; i < 3; i++) {
    const from = demoChain[i]!;
    const to = demoChain[i + 1]!;
    await ledger(
      from,
      'allocations',
      {
        allocationId: `AL-${demoYear}-${to}`,
        toPartition: to,
        fromAccountId: 'POOL',
        documentNumber: `财农〔${demoYear}〕${31 + i}号`,
        fundSource: 'central',
        purpose: 'general',
        fiscalYear: demoYear,
        title: `${demoYear}年中央财政专项扶贫资金`,
        amountFen: yuan(amounts[i]!),
      },
      `demo-issue-${to}`,
    );
    await ledger(
      to,
      'receipts',
      {
        receiptId: `RC-${demoYear}-${to}`,
        accountId: 'POOL',
        amountFen: yuan(amounts[i]!),
        origin: { kind: 'partition', partition: from, allocationId: `AL-${demoYear}-${to}` },
      },
      `demo-receive-${to}`,
    );
  }

  on(`${demoYear}-03-20`);
  // 3. The county plan (实施方案), a project in it, money earmarked, accepted (验收) and disbursed (报账制).
  await ledger(
    demoCounty,
    'plans',
    {
      planId: `PLAN-${demoYear}`,
      title: `内乡县${demoYear}年脱贫攻坚项目实施方案`,
      fiscalYear: demoYear,
      documentNumber: `内政〔${demoYear}〕8号`,
      totalFen: yuan(2_500_000),
      lines: [
        { lineId: 'INDUSTRY', category: 'industry', title: '产业发展', amountFen: yuan(1_500_000) },
        { lineId: 'INFRA', category: 'infrastructure', title: '基础设施建设', amountFen: yuan(1_000_000) },
      ],
    },
    'demo-plan',
  );
  const village = households[0]!.villageCode;
  await ledger(
    demoCounty,
    'accounts',
    { accountId: 'PRJ-ROAD', kind: 'project', name: '村组道路硬化项目' },
    'demo-acct-prj',
  );
  await ledger(
    demoCounty,
    'accounts',
    { accountId: 'UNIT-JT', kind: 'implementing_unit', name: '内乡县交通运输局' },
    'demo-acct-unit',
  );
  await ledger(
    demoCounty,
    'projects',
    {
      projectId: 'PRJ-ROAD',
      planId: `PLAN-${demoYear}`,
      lineId: 'INFRA',
      name: '村组道路硬化 3.2 公里',
      villageCode: village,
      budgetFen: yuan(800_000),
      accountId: 'PRJ-ROAD',
      implementingUnitAccountId: 'UNIT-JT',
      reimbursement: true,
    },
    'demo-project',
  );
  on(`${demoYear}-04-08`);
  await ledger(
    demoCounty,
    'earmarks',
    { earmarkId: 'EM-ROAD', projectId: 'PRJ-ROAD', fromAccountId: 'POOL', amountFen: yuan(800_000) },
    'demo-earmark',
  );
  on(`${demoYear}-05-20`);
  await ledger(
    demoCounty,
    'acceptances',
    {
      acceptanceId: 'ACC-ROAD',
      projectId: 'PRJ-ROAD',
      documentNumber: `内交验〔${demoYear}〕12号`,
      acceptedOn: `${demoYear}-05-20`,
      inspectedBy: '县交通运输局、乡镇联合验收组',
    },
    'demo-acceptance',
  );
  on(`${demoYear}-05-27`);
  await ledger(
    demoCounty,
    'disbursements',
    {
      disbursementId: 'DB-ROAD-1',
      projectId: 'PRJ-ROAD',
      amountFen: yuan(600_000),
      acceptanceId: 'ACC-ROAD',
    },
    'demo-disburse',
  );

  // 4. 低保 for June: the approval notice (≥ 7 days) with its list of households (公示名单), public
  // for the whole period; then the roster of exactly those lines, paid into 一卡通 accounts.
  const payable = households.filter((h) => h.status !== 'lifted' && h.account);
  const rows = payable.map((h, i) => ({
    row: i + 2,
    householdId: h.householdId,
    quantity: h.members.length,
    amountFen: (dibaoMonthlyFen * BigInt(h.members.length)).toString(),
  }));
  on(`${demoYear}-06-01`);
  await ledger(
    demoCounty,
    'notices',
    {
      noticeId: `N-DIBAO-${demoYear}-06`,
      kind: 'programme',
      title: `${demoYear}年6月农村低保发放名单公示`,
      stage: 'approval',
      programmeCode: 'dibao_class1',
      period: `${demoYear}-06`,
      startsOn: `${demoYear}-06-01`,
      endsOn: `${demoYear}-06-07`,
      lines: rows.map((r, i) => ({
        line: i + 1,
        householdId: r.householdId,
        quantity: r.quantity,
        amountFen: r.amountFen,
      })),
    },
    'demo-notice',
  );
  on(`${demoYear}-06-12`);
  await ledger(
    demoCounty,
    'rosters',
    {
      rosterId: `RS-DIBAO-${demoYear}-06`,
      programmeCode: 'dibao_class1',
      period: `${demoYear}-06`,
      accountId: 'POOL',
      noticeId: `N-DIBAO-${demoYear}-06`,
      rows,
    },
    'demo-roster',
  );
  on(`${demoYear}-06-20`);
  // The bank's answer: all settled but one, whose account was closed (money returns to its tranche).
  for (let i = 0; i < rows.length; i++) {
    const paymentId = `RS-DIBAO-${demoYear}-06-r${rows[i]!.row}`;
    if (i === rows.length - 1) {
      await ledger(
        demoCounty,
        'payment-returns',
        { paymentId, reason: '账户已销户', returnedOn: `${demoYear}-06-20` },
        `demo-return-${paymentId}`,
      );
    } else {
      await ledger(
        demoCounty,
        'payment-settlements',
        {
          paymentId,
          bankReference: `NXRCB-${demoYear}06-${String(i).padStart(5, '0')}`,
          settledOn: `${demoYear}-06-20`,
        },
        `demo-settle-${paymentId}`,
      );
    }
  }
  return { county: demoCounty, households: households.length, rosterRows: rows.length };
}
