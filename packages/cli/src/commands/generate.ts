import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ledger as ledgerEvents } from '@fundtrace/events';
import {
  generateHouseholds,
  type HouseholdInput,
  householdHeader,
  householdToRows,
  type Random,
  seededRandom,
} from '@fundtrace/pii';
import { Command, Option } from 'commander';
import { UsageError } from '../context';

/**
 * `fundtrace generate`: a realistic, reproducible (seeded) data set for the benchmarks and for
 * sizing a deployment. It writes *commands*, not events: one JSON line per HTTP command of the
 * registry-api and ledger-api, in the order an office would send them, so loading the file goes
 * through the writers' own validation, decisions and appends (see @fundtrace/bench `loadCommands`).
 *
 * What a county gets (DOMAIN.md): households with valid ID numbers and 一卡通 cards in villages
 * with plausible codes (imported in files, as a registry clerk does); central money allocated
 * down province → city → county (下达 / 到账) plus the county's own funds; a plan, projects with
 * earmarks, acceptance (验收) and disbursements (报账制); twelve monthly rosters of 低保 (three
 * classes) and 残疾人两项补贴, yearly rosters of 光伏收益 and 雨露计划, each after its approval
 * notice, published with its list of households (公示名单: the roster's households, quantities and
 * amounts, decision 0076); the bank's answer to every payment (settled, or returned for a closed card and then
 * re-paid), and reversals of a few disbursements.
 */

/** Households of one county at `--scale county`: the issue's ≈ 50,000 (≈ 1,000,000 events). */
export const countyHouseholds = 50_000;
/** Counties at `--scale province` (the issue asks for ≥ 20). */
export const provinceCounties = 20;
/** One registry import stays well under the registry's 200,000-row limit (≈ 3.6 members each). */
const importHouseholdsMax = 40_000;
/** Every 1,000 households get a village (a 行政村 in Henan has ~300 households; rounded up). */
const householdsPerVillage = 300;
/** One project (项目库) per 1,000 households, roughly what the county plans list. */
const householdsPerProject = 1_000;
/** The bank returns this share of payments (closed or frozen cards); each is re-paid next period. */
const returnShare = 0.004;
/** Share of projects whose second disbursement is reversed (冲正) for a wrong amount. */
const reversalShare = 0.05;
/**
 * The last fiscal year of the data set: in the past, so every notice period is over. A data set
 * covers `years` fiscal years ending with this one (books accumulate: a county's ledger holds
 * every year since it started, and a household's trace spans them).
 */
const lastYear = 2024;
/**
 * Fiscal years at `--scale county` by default: two years of a 50,000-household county are the
 * issue's ≈ 1,000,000 events (one year is ≈ 525,000).
 */
export const defaultYears = 2;
/** Most fiscal years a data set may span. */
const yearsMax = 10;
/** Most households a run may ask for per county: the pii generator's own cap. */
const householdsPerCountyMax = 1_000_000;

/** Real 河南 counties under their cities (GB/T 2260), the first twenty used at province scale. */
const henan: ReadonlyArray<{ city: string; cityName: string; counties: readonly string[] }> = [
  {
    city: '411300',
    cityName: '南阳市',
    counties: ['411325', '411321', '411322', '411323', '411324', '411326', '411327'],
  },
  {
    city: '410300',
    cityName: '洛阳市',
    counties: ['410324', '410325', '410326', '410327', '410328', '410329', '410323'],
  },
  { city: '411200', cityName: '三门峡市', counties: ['411221', '411224', '411282'] },
  { city: '411500', cityName: '信阳市', counties: ['411521', '411522', '411523'] },
];
const central = '000000';
const province = '410000';

/** Monthly programmes: who gets them (share of households) and the standard per person-month. */
const monthly = [
  { code: 'dibao_class1', share: 0.12, fen: 19_000n },
  { code: 'dibao_class2', share: 0.15, fen: 16_000n },
  { code: 'dibao_class3', share: 0.13, fen: 13_000n },
  { code: 'disability_allowance', share: 0.1, fen: 6_000n },
] as const;

export interface GenerateOptions {
  scale: 'county' | 'province';
  seed: string;
  /** Households per county (default: the scale's). */
  households?: number;
  /** Fiscal years ending with 2024 (default `defaultYears`). */
  years?: number;
}

export interface CommandLine {
  service: 'registry' | 'ledger';
  partition: string;
  /** Path under /v1/partitions/:partition/. */
  path: string;
  body: Record<string, unknown>;
  /** Lines with the same non-null group are independent and may be sent concurrently. */
  group: string | null;
}

export interface GenerateSummary {
  scale: string;
  seed: string;
  counties: number;
  years: number;
  households: number;
  commands: number;
  /** What the commands should append (events), by kind; the writers' answers are the truth. */
  expectedEvents: number;
  payments: number;
}

const fen = (n: bigint) => n.toString();

/**
 * Yields the commands of the data set in order. Pure given the options (same seed, same lines),
 * and streaming: a province is millions of lines and is never held in memory at once.
 */
export function* generateCommands(
  options: GenerateOptions,
  summary?: GenerateSummary,
): Generator<CommandLine> {
  const perCounty = options.households ?? countyHouseholds;
  if (!Number.isInteger(perCounty) || perCounty < 10 || perCounty > householdsPerCountyMax)
    throw new UsageError(`--households must be an integer from 10 to ${householdsPerCountyMax}`);
  const yearCount = options.years ?? defaultYears;
  if (!Number.isInteger(yearCount) || yearCount < 1 || yearCount > yearsMax)
    throw new UsageError(`--years must be an integer from 1 to ${yearsMax}`);
  const years = Array.from({ length: yearCount }, (_, i) => lastYear - yearCount + 1 + i);
  const chosen =
    options.scale === 'county'
      ? [{ city: henan[0]!.city, cityName: henan[0]!.cityName, counties: ['411325'] }]
      : pickCounties(provinceCounties);
  const counties = chosen.flatMap((c) => c.counties.map((county) => ({ county, city: c.city })));
  const s = summary ?? emptySummary(options);
  Object.assign(s, {
    scale: options.scale,
    seed: options.seed,
    counties: counties.length,
    years: years.length,
  });
  const count = (line: CommandLine, events: number): CommandLine => {
    s.commands++;
    s.expectedEvents += events;
    return line;
  };
  const ledger = (
    partition: string,
    path: string,
    body: Record<string, unknown>,
    events = 1,
    group: string | null = null,
  ) => count({ service: 'ledger', partition, path, body, group }, events);

  // Households first: the ledger pays only registered households with a bound card.
  const byCounty = new Map<string, HouseholdInput[]>();
  for (const { county } of counties) {
    const households = generateHouseholds({
      county,
      villages: Math.max(1, Math.ceil(perCounty / householdsPerVillage)),
      count: perCounty,
      seed: `${options.seed}-${county}`,
    });
    byCounty.set(county, households);
    s.households += households.length;
    for (let from = 0; from < households.length; from += importHouseholdsMax) {
      const part = households.slice(from, from + importHouseholdsMax);
      const rows: { row: number; cells: string[] }[] = [];
      for (const household of part)
        for (const cells of householdToRows(household)) rows.push({ row: rows.length + 2, cells });
      // Registration, then one event per extra member and per bound card (registry-api's writer).
      const events = part.reduce((n, h) => n + 1 + (h.account ? 1 : 0), 0);
      yield count(
        {
          service: 'registry',
          partition: county,
          path: 'imports',
          body: { commandId: `gen-${options.seed}-import-${county}-${from}`, header: householdHeader, rows },
          group: null,
        },
        events,
      );
    }
  }

  // Pools at every level, then per fiscal year the central budget, allocations down the chain
  // and their receipts, and the county's books of the year.
  const partitions = [central, province, ...chosen.map((c) => c.city), ...counties.map((c) => c.county)];
  for (const partition of partitions)
    yield ledger(partition, 'accounts', {
      commandId: `gen-${options.seed}-pool-${partition}`,
      accountId: 'POOL',
      kind: 'pool',
      name: `${partition} 扶贫资金专户`,
    });
  const countyNeed = countyBudgetFen(perCounty);
  const cityNeed = new Map(chosen.map((c) => [c.city, countyNeed * BigInt(c.counties.length)]));
  const provinceNeed = countyNeed * BigInt(counties.length);
  // One random stream per county, drawn on across the years.
  const randoms = new Map(
    counties.map(({ county }) => [county, seededRandom(`${options.seed}-ledger-${county}`)]),
  );
  for (const year of years) {
    // The first year keeps the ids of a one-year data set, so `--years 1` is unchanged.
    const tag = year === years[0] ? '' : `-${year}`;
    yield ledger(central, 'receipts', {
      commandId: `gen-${options.seed}-budget${tag}`,
      receiptId: `BUDGET-${year}`,
      accountId: 'POOL',
      amountFen: fen(provinceNeed),
      origin: {
        kind: 'external',
        payer: '中央财政',
        documentNumber: `财预〔${year}〕1号`,
        fundSource: 'central',
        purpose: 'general',
        fiscalYear: year,
      },
    });
    let doc = 31;
    const allocate = function* (from: string, to: string, amount: bigint) {
      const allocationId = `AL-${year}-${to}`;
      yield ledger(from, 'allocations', {
        commandId: `gen-${options.seed}-issue-${to}${tag}`,
        allocationId,
        toPartition: to,
        fromAccountId: 'POOL',
        documentNumber: `财农〔${year}〕${doc++}号`,
        fundSource: 'central',
        purpose: 'general',
        fiscalYear: year,
        title: `${year}年中央财政专项扶贫资金`,
        amountFen: fen(amount),
      });
      yield ledger(to, 'receipts', {
        commandId: `gen-${options.seed}-receive-${to}${tag}`,
        receiptId: `RC-${year}-${to}`,
        accountId: 'POOL',
        amountFen: fen(amount),
        origin: { kind: 'partition', partition: from, allocationId },
      });
    };
    yield* allocate(central, province, provinceNeed);
    for (const c of chosen) yield* allocate(province, c.city, cityNeed.get(c.city)!);
    for (const c of counties) yield* allocate(c.city, c.county, countyNeed);

    for (const { county } of counties)
      yield* countyLedger(county, byCounty.get(county)!, randoms.get(county)!, options.seed, ledger, s, {
        year,
        tag,
        firstYear: year === years[0],
      });
  }
}

function pickCounties(n: number) {
  const out: { city: string; cityName: string; counties: string[] }[] = [];
  let left = n;
  for (const c of henan) {
    if (left === 0) break;
    const take = c.counties.slice(0, left);
    out.push({ city: c.city, cityName: c.cityName, counties: [...take] });
    left -= take.length;
  }
  return out;
}

/** What a county spends in the year, with headroom: projects plus every roster, at the standards above. */
function countyBudgetFen(households: number): bigint {
  const projects = BigInt(Math.max(1, Math.ceil(households / householdsPerProject)));
  const perHousehold = 12n * 6n * 19_000n + 300_000n + 200_000n; // worst case: 6 people, every programme
  return 2n * projects * 100_000_000n + BigInt(households) * perHousehold;
}

/** A payment the bank returned, re-paid (补发) once the card is fixed. */
interface Returned {
  householdId: string;
  code: string;
  period: string;
  quantity: number;
  amountFen: bigint;
}

/** One fiscal year of a county's books. */
interface LedgerYear {
  year: number;
  /** Suffix of ids that would repeat across years (empty in the first year). */
  tag: string;
  /** The first year opens the implementing units' accounts. */
  firstYear: boolean;
}

type Ledger = (
  partition: string,
  path: string,
  body: Record<string, unknown>,
  events?: number,
  group?: string | null,
) => CommandLine;

function* countyLedger(
  county: string,
  households: HouseholdInput[],
  random: Random,
  seed: string,
  ledger: Ledger,
  s: GenerateSummary,
  { year, tag, firstYear }: LedgerYear,
): Generator<CommandLine> {
  const id = (name: string) => `gen-${seed}-${county}-${name}${tag}`;
  const payable = households.filter((h) => h.status !== 'lifted' && h.account !== null);
  const villages = [...new Set(households.map((h) => h.villageCode))];

  // The plan (实施方案), then projects: earmark, accept, disburse in two parts; a few reversed.
  const projects = Math.max(1, Math.ceil(households.length / householdsPerProject));
  const budget = 100_000_000n; // 100万 元 per project line item
  yield ledger(county, 'plans', {
    commandId: id('plan'),
    planId: `PLAN-${year}`,
    title: `${county}${year}年脱贫攻坚项目实施方案`,
    fiscalYear: year,
    documentNumber: `${county}政〔${year}〕8号`,
    // Each line can hold every project (a project's budget is at most the line's unit), so the
    // plan never refuses a project of the generated mix.
    totalFen: fen(2n * budget * BigInt(projects)),
    lines: [
      {
        lineId: 'INDUSTRY',
        category: 'industry',
        title: '产业发展',
        amountFen: fen(budget * BigInt(projects)),
      },
      {
        lineId: 'INFRA',
        category: 'infrastructure',
        title: '基础设施建设',
        amountFen: fen(budget * BigInt(projects)),
      },
    ],
  });
  for (let p = 0; p < projects; p++) {
    const projectId = `PRJ-${p}${tag}`;
    const unit = `UNIT-${p % 7}`;
    if (firstYear && p < 7)
      yield ledger(county, 'accounts', {
        commandId: id(`unit-${p}`),
        accountId: unit,
        kind: 'implementing_unit',
        name: `实施单位 ${p + 1}`,
      });
    yield ledger(county, 'accounts', {
      commandId: id(`acct-${p}`),
      accountId: projectId,
      kind: 'project',
      name: `项目 ${p + 1}`,
    });
    const amount = (budget * BigInt(40 + random.int(0, 49))) / 100n;
    yield ledger(county, 'projects', {
      commandId: id(`project-${p}`),
      projectId,
      planId: `PLAN-${year}`,
      lineId: p % 2 === 0 ? 'INDUSTRY' : 'INFRA',
      name: p % 2 === 0 ? `产业项目 ${p + 1}` : `村组道路硬化 ${p + 1}`,
      villageCode: villages[p % villages.length]!,
      budgetFen: fen(amount),
      accountId: projectId,
      implementingUnitAccountId: unit,
      reimbursement: true,
    });
    yield ledger(county, 'earmarks', {
      commandId: id(`earmark-${p}`),
      earmarkId: `EM-${p}${tag}`,
      projectId,
      fromAccountId: 'POOL',
      amountFen: fen(amount),
    });
    yield ledger(county, 'acceptances', {
      commandId: id(`acceptance-${p}`),
      acceptanceId: `ACC-${p}${tag}`,
      projectId,
      documentNumber: `验〔${year}〕${p + 1}号`,
      acceptedOn: `${year}-05-20`,
      inspectedBy: '乡镇联合验收组',
    });
    const first = (amount * 6n) / 10n;
    for (const [k, part] of [first, amount - first].entries()) {
      yield ledger(county, 'disbursements', {
        commandId: id(`disburse-${p}-${k}`),
        disbursementId: `DB-${p}-${k}${tag}`,
        projectId,
        amountFen: fen(part),
        acceptanceId: `ACC-${p}${tag}`,
      });
    }
    if (random.next() < reversalShare)
      yield ledger(county, 'reversals', {
        commandId: id(`reverse-${p}`),
        reversalId: `RV-DB-${p}-1${tag}`,
        movementKind: 'disbursement',
        movementId: `DB-${p}-1${tag}`,
        reason: '金额录入错误',
      });
  }

  // Programme membership is a property of the household, drawn once.
  const members = new Map(monthly.map((m) => [m.code, [] as HouseholdInput[]]));
  const pv: HouseholdInput[] = [];
  const yulu: HouseholdInput[] = [];
  for (const h of payable) {
    const r = random.next();
    let acc = 0;
    for (const m of monthly) {
      acc += m.share;
      if (r < acc) {
        members.get(m.code)!.push(h);
        break;
      }
    }
    if (random.next() < 0.3) pv.push(h);
    if (random.next() < 0.1) yulu.push(h);
  }

  let returned: Returned[] = [];
  const roster = function* (
    code: string,
    period: string,
    list: HouseholdInput[],
    amountOf: (h: HouseholdInput) => [number, bigint],
  ) {
    if (list.length === 0) return;
    const noticeId = `N-${code}-${period}`;
    const start = period.length === 7 ? `${period}-01` : `${period}-01-05`;
    const rows = list.map((h, i) => {
      const [quantity, amount] = amountOf(h);
      return { row: i + 2, householdId: h.householdId, quantity, amountFen: fen(amount) };
    });
    // The notice publishes its list (公示名单, decision 0071): exactly the roster's households at
    // the roster's quantities and amounts, so every payment under it is a listed line.
    const lines = noticeLinesOf(rows);
    yield ledger(
      county,
      'notices',
      {
        commandId: id(`notice-${code}-${period}`),
        noticeId,
        kind: 'programme',
        title: `${period} ${code} 发放名单公示`,
        stage: 'approval',
        programmeCode: code,
        period,
        startsOn: start,
        endsOn: addDays(start, 7),
        lines,
      },
      noticeEvents(lines.length),
    );
    const rosterId = `RS-${code}-${period}`;
    yield ledger(
      county,
      'rosters',
      {
        commandId: id(`roster-${code}-${period}`),
        rosterId,
        programmeCode: code,
        period,
        accountId: 'POOL',
        noticeId,
        rows,
      },
      rows.length,
    );
    s.payments += rows.length;
    const settledOn = addDays(start, 19);
    for (const row of rows) {
      const paymentId = ledgerEvents.rosterPaymentId(rosterId, row.row);
      if (random.next() < returnShare) {
        returned.push({
          householdId: row.householdId,
          code,
          period,
          quantity: row.quantity,
          amountFen: BigInt(row.amountFen),
        });
        yield ledger(
          county,
          'payment-returns',
          { commandId: id(`return-${paymentId}`), paymentId, reason: '账户已冻结', returnedOn: settledOn },
          1,
          `bank-${rosterId}`,
        );
      } else {
        yield ledger(
          county,
          'payment-settlements',
          {
            commandId: id(`settle-${paymentId}`),
            paymentId,
            bankReference: `RCB-${period}-${String(row.row).padStart(6, '0')}`,
            settledOn,
          },
          1,
          `bank-${rosterId}`,
        );
      }
    }
  };

  for (let month = 1; month <= 12; month++) {
    const period = `${year}-${String(month).padStart(2, '0')}`;
    for (const m of monthly)
      yield* roster(m.code, period, members.get(m.code)!, (h) => [
        h.members.length,
        m.fen * BigInt(h.members.length),
      ]);
    // Re-payments (补发) of last month's returns, one instruction each, once the card is fixed.
    for (const [i, r] of returned.entries()) {
      const paymentId = `RP-${period}-${i}`;
      yield ledger(county, 'payments', {
        commandId: id(`repay-${paymentId}`),
        paymentId,
        householdId: r.householdId,
        programmeCode: r.code,
        // The re-payment is for the original period, under the original notice.
        period: r.period,
        quantity: r.quantity,
        amountFen: fen(r.amountFen),
        accountId: 'POOL',
        noticeId: `N-${r.code}-${r.period}`,
      });
      s.payments++;
      yield ledger(
        county,
        'payment-settlements',
        {
          commandId: id(`settle-${paymentId}`),
          paymentId,
          bankReference: `RCB-RP-${period}-${i}`,
          settledOn: `${period}-25`,
        },
        1,
        `repay-${period}`,
      );
    }
    returned = [];
    if (month === 6) {
      yield* roster('pv_income', `${year}`, pv, () => [1, 300_000n]);
      yield* roster('yulu_grant', `${year}`, yulu, () => [1, 200_000n]);
    }
  }
}

/** A roster row (the generator's shape: sheet row from 2, household, quantity, amount in fen as digits). */
interface RosterRow {
  row: number;
  householdId: string;
  quantity: number;
  amountFen: string;
}

/**
 * A roster's rows as its notice's lines, numbered from 1 as printed on the board. Compact: no
 * `memberNos` (the generated programmes pay households or months, and the schema defaults it to
 * none), so a line costs what a roster row does.
 */
export function noticeLinesOf(rows: readonly RosterRow[]): NoticeLineBody[] {
  return rows.map((r, i) => ({
    line: i + 1,
    householdId: r.householdId,
    quantity: r.quantity,
    amountFen: r.amountFen,
  }));
}

/** One line of a generated notice's list, as the PublishNotice command takes it. */
export interface NoticeLineBody {
  line: number;
  householdId: string;
  quantity: number;
  amountFen: string;
}

/** Events a notice with `lineCount` lines appends: NoticePublished and its parts (ledger-api's `noticeLineEvents`). */
export function noticeEvents(lineCount: number): number {
  return 1 + Math.ceil(lineCount / ledgerEvents.noticeLinesPerEventMax);
}

function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

export function generateCommand(): Command {
  return new Command('generate')
    .description('write a seeded, realistic data set (registry and ledger commands, one JSON line each)')
    .addOption(
      new Option('--scale <scale>', 'county (≈50,000 households) or province (20 counties)')
        .choices(['county', 'province'])
        .default('county'),
    )
    .option('--seed <seed>', 'seed: the same seed always gives the same data', '1')
    .option('--households <n>', 'households per county (default: the scale’s)')
    .option('--years <n>', `fiscal years ending with ${lastYear}`, String(defaultYears))
    .requiredOption('--out <dir>', 'directory to write commands.ndjson and summary.json into')
    .action(
      async (o: {
        scale: 'county' | 'province';
        seed: string;
        households?: string;
        years: string;
        out: string;
      }) => {
        const households = o.households === undefined ? undefined : Number(o.households);
        mkdirSync(o.out, { recursive: true });
        const summary = await writeDataSet(o.out, {
          scale: o.scale,
          seed: o.seed,
          households,
          years: Number(o.years),
        });
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      },
    );
}

/** A summary with nothing counted yet; the generator fills it in as it yields. */
export function emptySummary(options: GenerateOptions): GenerateSummary {
  return {
    scale: options.scale,
    seed: options.seed,
    counties: 0,
    years: 0,
    households: 0,
    commands: 0,
    expectedEvents: 0,
    payments: 0,
  };
}

/** Writes `commands.ndjson` and `summary.json` into `dir`, honouring back-pressure. */
export async function writeDataSet(dir: string, options: GenerateOptions): Promise<GenerateSummary> {
  const summary = emptySummary(options);
  const out = createWriteStream(join(dir, 'commands.ndjson'));
  for (const line of generateCommands(options, summary)) {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const summaryStream = createWriteStream(join(dir, 'summary.json'));
  summaryStream.end(`${JSON.stringify(summary, null, 2)}\n`);
  await once(summaryStream, 'finish');
  return summary;
}
