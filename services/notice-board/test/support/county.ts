import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHouseholds, generateVillages, type HouseholdInput, townshipsOf } from '@fundtrace/pii';
import { signToken } from '@fundtrace/service-kit';
import {
  connectTestNats,
  createTestDatabase,
  deleteNamespaceStreams,
  freePorts,
  runEveryStep,
  type ServiceName,
  type ServiceProcess,
  startServiceProcess,
  type TestDatabase,
  testNamespace,
  until,
} from '@fundtrace/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { sql } from 'kysely';

/**
 * A generated county written through the real write path: registry-api registers the pii demo
 * households, ledger-api books allocations central → province → city → county, a plan, projects,
 * earmarks, disbursements, notices and a roster; the projector and the log-keeper run as the real
 * services. Tests of the notice board read what these services produced, never hand-made rows.
 */

export const county = '411325';
export const city = '411300';
export const province = '410000';
export const central = '000000';
/** How long the fixture waits for the projector and the log-keeper to catch up. */
const catchUpTimeoutMs = 120_000;
/** Tries of one command when the connection fails (not when the service answers). */
const commandAttemptsMax = 3;

export interface CountyFixture {
  readonly database: TestDatabase;
  readonly databaseUrl: string;
  readonly ns: string;
  readonly jwtSecret: string;
  readonly urls: { ledger: string; registry: string; projector: string; logKeeper: string };
  /** The households as registry staff typed them, in clear: what must never appear on a page. */
  readonly households: readonly HouseholdInput[];
  readonly villages: readonly string[];
  readonly gazetteerFile: string;
  /**
   * A closed-period notice published with its list and then paid (`paid`), an open notice with a
   * list and no payments (`open`), and the roster's result notice (`roster`, no list). On the paid
   * notice's list, `upheld` had an objection upheld and `waiting` has one open; `unlisted` is an
   * eligible household left off the list (a payment to it under the notice is 未经公示).
   */
  readonly notices: {
    readonly paid: string;
    readonly open: string;
    readonly roster: string;
    readonly unlisted: string;
    readonly upheld: string;
    readonly waiting: string;
  };
  /** The env a notice board needs to read these books. */
  readonly boardEnv: Record<string, string>;
  /** Where the services' logs go (removed by `stop`). */
  readonly logDir: string;
  stop(): Promise<void>;
}

export async function startCounty(
  options: { households?: number; villages?: number } = {},
): Promise<CountyFixture> {
  const householdCount = options.households ?? 36;
  const villageCount = options.villages ?? 6;
  const database = await createTestDatabase();
  const ns = testNamespace();
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PII_KEYS: `t1:${randomBytes(32).toString('base64')}`,
    PII_ACTIVE_KEY: 't1',
    PII_HMAC_KEY: randomBytes(32).toString('base64'),
    LOG_SIGNING_KEY: randomBytes(32).toString('base64'),
  };
  const [ledgerPort, registryPort, projectorPort, keeperPort] = await freePorts(4);
  const urls = {
    ledger: `http://127.0.0.1:${ledgerPort}`,
    registry: `http://127.0.0.1:${registryPort}`,
    projector: `http://127.0.0.1:${projectorPort}`,
    logKeeper: `http://127.0.0.1:${keeperPort}`,
  };
  const base: Record<string, string> = {
    ...secrets,
    DATABASE_URL: database.url,
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    FUNDTRACE_NAMESPACE: ns,
  };
  const logDir = join(tmpdir(), `nb-county-${ns}`);
  const gazetteerFile = join(tmpdir(), `gazetteer-${ns}.json`);
  const services: ServiceProcess[] = [];
  // Every step runs even when one before it fails, so that the services' streams (the whole
  // hierarchy, 8 streams) and the database never outlive the file; the first failure is thrown.
  const stop = () =>
    runEveryStep([
      ...services.reverse().map((service) => () => service.stop()),
      async () => {
        const nc = await connectTestNats(`fundtrace-test-county-${ns}`);
        try {
          await deleteNamespaceStreams(await jetstreamManager(nc), ns);
        } finally {
          await nc.close();
        }
      },
      () => database.drop(),
      () => rmSync(logDir, { recursive: true, force: true }),
      () => rmSync(gazetteerFile, { force: true }),
    ]);
  const logTails = () => services.map((s) => `[${s.name}]\n${s.proc.logTail(10)}`).join('\n');
  try {
    const plan: Array<[ServiceName, Record<string, string>, number]> = [
      ['registry-api', { ...base, REGISTRY_PARTITIONS: county }, registryPort!],
      ['ledger-api', { ...base, LOG_KEEPER_URL: urls.logKeeper }, ledgerPort!],
      ['projector', base, projectorPort!],
      ['log-keeper', { ...base, LOG_CHECKPOINT_INTERVAL_MS: '1000' }, keeperPort!],
    ];
    // Started together (each compiles on start), kept for `stop` even when another fails.
    const started = await Promise.allSettled(
      plan.map(([name, env, port]) => startServiceProcess(name, env, { logDir, port })),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') services.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const villages = generateVillages(county, villageCount);
    const households = generateHouseholds({
      county,
      count: householdCount,
      seed: 'notice-board',
      villages: villages.map((v) => v.code),
    });
    const notices = await loadCounty(urls, secrets.JWT_SECRET, households);
    const db = database.db;
    // The projector has caught up when the last roster's payments and the open notice are projected.
    await until(
      'the projector',
      async () => {
        const { rows } = await sql<{
          n: string;
        }>`select count(*)::text as n from books.payments where roster_id = 'roster-1'`.execute(db);
        const open = await sql<{
          n: string;
        }>`select count(*)::text as n from books.notices where notice_id = ${notices.open}`.execute(db);
        return Number(rows[0]?.n) > 0 && Number(open.rows[0]?.n) === 1;
      },
      catchUpTimeoutMs,
    );
    // And the log-keeper has signed a checkpoint covering the county's whole ledger stream.
    const ledgerStream = `${ns}_LEDGER_${county}`;
    await until(
      'a checkpoint of the county ledger',
      async () => {
        const last = await sql<{
          n: string;
        }>`select max(seq)::text as n from books.events where stream = ${`LEDGER_${county}`}`.execute(db);
        const signed = await sql<{
          n: string | null;
        }>`select max(size)::text as n from public.merkle_checkpoints where stream = ${ledgerStream}`.execute(
          db,
        );
        return Number(signed.rows[0]?.n ?? 0) >= Number(last.rows[0]?.n);
      },
      catchUpTimeoutMs,
    );
    const names: Record<string, string> = {};
    for (const t of townshipsOf(county)) names[t.code] = t.name;
    for (const v of villages) names[v.code] = v.name;
    writeFileSync(gazetteerFile, JSON.stringify(names));
    return {
      database,
      databaseUrl: database.url,
      ns,
      jwtSecret: secrets.JWT_SECRET,
      urls,
      households,
      villages: villages.map((v) => v.code),
      gazetteerFile,
      notices,
      boardEnv: {
        DATABASE_URL: database.url,
        NATS_URL: base.NATS_URL!,
        FUNDTRACE_NAMESPACE: ns,
        JWT_SECRET: secrets.JWT_SECRET,
        LEDGER_API_URL: urls.ledger,
        LOG_KEEPER_PUBLIC_URL: urls.logKeeper,
        NOTICE_GAZETTEER_FILE: gazetteerFile,
        NOTICE_CHECKPOINT_POLL_MS: '200',
        // The fixture's tests and benchmark read pages far faster than a person from one address.
        NOTICE_PAGES_PER_MINUTE: '1000000000',
        LOG_LEVEL: 'warn',
      },
      logDir,
      stop,
    };
  } catch (error) {
    const tail = logTails();
    await stop().catch(() => undefined);
    throw new Error(`${(error as Error).message}\n--- service logs ---\n${tail}`);
  }
}

/**
 * A notice board over the fixture's books as its own process, the way an operator runs it (the
 * browser test, the benchmark); `env` adds to or overrides `boardEnv`. Stop it before the fixture.
 */
export function startBoard(
  fixture: CountyFixture,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startServiceProcess('notice-board', { ...fixture.boardEnv, ...env }, { logDir: fixture.logDir });
}

type Json = Record<string, unknown>;

/** Writes the county through the real APIs (households, money down the chain, projects, notices, a roster). */
export async function loadCounty(
  urls: CountyFixture['urls'],
  jwtSecret: string,
  households: readonly HouseholdInput[],
): Promise<CountyFixture['notices']> {
  const finance = await signToken(
    jwtSecret,
    { sub: 'fixture-finance', role: 'finance', org: '财政局', partitions: ['*'] },
    3600,
  );
  const registry = await signToken(
    jwtSecret,
    { sub: 'fixture-registry', role: 'registry', org: '乡村振兴局', partitions: [county] },
    3600,
  );
  let n = 0;
  const post = async (
    base: string,
    token: string,
    path: string,
    body: Json,
    expect: number[] = [200, 201, 202],
  ) => {
    const payload = JSON.stringify({ commandId: `fx-${++n}`, ...body });
    // A reset connection on the loaded machine is retried: the command id makes a repeat a no-op.
    let response: Response | undefined;
    for (let attempt = 1; response === undefined; attempt++) {
      try {
        response = await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: payload,
        });
      } catch (error) {
        if (attempt >= commandAttemptsMax) throw error;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
    const text = await response.text();
    if (!expect.includes(response.status)) throw new Error(`POST ${path} → ${response.status}: ${text}`);
    return { status: response.status, body: JSON.parse(text) as Json };
  };
  const ledger = (partition: string, path: string, body: Json, expect?: number[]) =>
    post(urls.ledger, finance, `/v1/partitions/${partition}/${path}`, body, expect);

  for (const household of households) {
    await post(urls.registry, registry, `/v1/partitions/${county}/households`, { household });
  }

  // Money down the chain: central appropriates, each level receives and issues on.
  const chain = [central, province, city, county];
  for (const p of chain)
    await ledger(p, 'accounts', { accountId: 'pool', kind: 'pool', name: '扶贫资金专户' });
  await ledger(central, 'receipts', {
    receiptId: 'r-central',
    accountId: 'pool',
    amountFen: '900000000',
    origin: {
      kind: 'external',
      payer: '中央财政',
      documentNumber: '财农〔2024〕1号',
      fundSource: 'central',
      purpose: 'general',
      fiscalYear: 2024,
    },
  });
  const amounts = ['600000000', '400000000', '300000000'];
  for (let i = 0; i < 3; i++) {
    const from = chain[i]!;
    const to = chain[i + 1]!;
    await ledger(from, 'allocations', {
      allocationId: `a-${to}`,
      toPartition: to,
      fromAccountId: 'pool',
      documentNumber: `财农〔2024〕${10 + i}号`,
      fundSource: 'central',
      purpose: 'general',
      fiscalYear: 2024,
      title: '2024年财政专项扶贫资金',
      amountFen: amounts[i],
    });
    await ledger(to, 'receipts', {
      receiptId: `r-${to}`,
      accountId: 'pool',
      amountFen: amounts[i],
      origin: { kind: 'partition', partition: from, allocationId: `a-${to}` },
    });
  }
  // An allocation issued and not yet received: it must show as in transit, never lost.
  await ledger(province, 'allocations', {
    allocationId: 'a-transit',
    toPartition: '411200',
    fromAccountId: 'pool',
    documentNumber: '豫财农〔2024〕99号',
    fundSource: 'central',
    purpose: 'general',
    fiscalYear: 2024,
    title: '在途资金',
    amountFen: '12345678',
  });

  await ledger(county, 'plans', {
    planId: 'plan-2024',
    title: '2024年统筹整合资金实施方案',
    fiscalYear: 2024,
    documentNumber: '内政〔2024〕5号',
    totalFen: '200000000',
    lines: [{ lineId: 'infra', category: 'infrastructure', title: '基础设施', amountFen: '200000000' }],
  });
  const villages = [...new Set(households.map((h) => h.villageCode))].sort();
  for (const [i, village] of villages.entries()) {
    const budget = BigInt(3_000_000 + i * 1_000_000);
    await ledger(county, 'accounts', { accountId: `prj-${i}`, kind: 'project', name: `项目${i}` });
    await ledger(county, 'accounts', {
      accountId: `iu-${i}`,
      kind: 'implementing_unit',
      name: `施工单位${i}`,
    });
    await ledger(county, 'projects', {
      projectId: `p-${i}`,
      planId: 'plan-2024',
      lineId: 'infra',
      name: `${i + 1}号村道硬化`,
      villageCode: village,
      budgetFen: budget.toString(),
      accountId: `prj-${i}`,
      implementingUnitAccountId: `iu-${i}`,
      reimbursement: false,
    });
    await ledger(county, 'earmarks', {
      earmarkId: `e-${i}`,
      projectId: `p-${i}`,
      fromAccountId: 'pool',
      amountFen: budget.toString(),
    });
    if (i % 3 !== 2) {
      await ledger(county, 'disbursements', {
        disbursementId: `d-${i}`,
        projectId: `p-${i}`,
        amountFen: ((budget * BigInt(i + 1)) / 10n).toString(),
      });
    }
  }

  // A notice whose period is over, published with its list of proposed households (公示名单)
  // before any payment; an open one with a list and no payments yet; a roster notice.
  const eligible = households.filter((h) => h.account !== null && (h.status ?? 'enrolled') === 'enrolled');
  const amountOf = (i: number) => String(15_000 * eligible[i]!.members.length + i);
  // The last eligible household is left off the list: a payment to it is 未经公示.
  const listed = eligible.slice(0, -1);
  const unlisted = eligible[eligible.length - 1]!.householdId;
  const paid = 'n-dibao-2024-10';
  // The ledger learns of households by tailing the registry: retry until it has seen them all.
  const untilRegistered = async (path: string, body: Json) => {
    const deadline = Date.now() + catchUpTimeoutMs;
    for (;;) {
      const response = await ledger(county, path, body, [200, 201, 422, 409]);
      if (response.status === 200 || response.status === 201) return;
      if (Date.now() > deadline) throw new Error(`${path} refused: ${JSON.stringify(response.body)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  await untilRegistered('notices', {
    noticeId: paid,
    kind: 'programme',
    title: '2024年10月农村低保名单公示',
    stage: 'approval',
    programmeCode: 'dibao_class1',
    period: '2024-10',
    startsOn: '2024-09-20',
    endsOn: '2024-09-27',
    lines: listed.map((h, i) => ({
      line: i + 1,
      householdId: h.householdId,
      quantity: h.members.length,
      amountFen: amountOf(i),
    })),
  });
  const open = 'n-pv-2099';
  await untilRegistered('notices', {
    noticeId: open,
    kind: 'programme',
    title: '光伏扶贫收益分配名单公示',
    stage: 'approval',
    programmeCode: 'pv_income',
    period: '2099',
    startsOn: '2020-01-01',
    endsOn: '2099-12-31',
    lines: eligible.slice(0, 5).map((h, i) => ({
      line: i + 1,
      householdId: h.householdId,
      quantity: 1,
      amountFen: String(300_000 + i * 10_000),
    })),
  });
  // Two listed households objected to: one objection upheld (not paid), one still open (waits).
  const upheld = listed[listed.length - 2]!.householdId;
  const waiting = listed[listed.length - 1]!.householdId;
  for (const [objectionId, householdId, summary] of [
    ['o-upheld', upheld, '该户家庭收入超过低保标准'],
    ['o-waiting', waiting, '该户已搬离本村，请核实'],
  ] as const) {
    await ledger(county, 'objections', {
      objectionId,
      noticeId: paid,
      householdId,
      summary,
      channel: 'counter',
      filedOn: '2024-09-22',
    });
  }
  await ledger(county, 'objection-resolutions', {
    objectionId: 'o-upheld',
    outcome: 'upheld',
    note: '经核实收入超标，不予发放',
  });
  const rows = listed.slice(0, -2).map((h, i) => ({
    row: i + 2,
    householdId: h.householdId,
    quantity: h.members.length,
    amountFen: amountOf(i),
  }));
  await untilRegistered('rosters', {
    rosterId: 'roster-1',
    programmeCode: 'dibao_class1',
    period: '2024-10',
    accountId: 'pool',
    noticeId: paid,
    rows,
  });
  // Settle most payments; the rest stay in progress (发放中).
  for (const [i] of rows.entries()) {
    if (i % 4 === 3) continue;
    await ledger(county, 'payment-settlements', {
      paymentId: `roster-1-r${i + 2}`,
      bankReference: `B${i}`,
      settledOn: '2024-10-15',
    });
  }
  const roster = 'n-roster-1';
  await ledger(county, 'notices', {
    noticeId: roster,
    kind: 'roster',
    title: '2024年10月低保资金发放结果公告',
    stage: 'approval',
    programmeCode: 'dibao_class1',
    period: '2024-10',
    subjectId: 'roster-1',
    startsOn: '2024-10-16',
    endsOn: '2024-10-31',
  });
  // An objection already filed and resolved, so resolutions show.
  await ledger(county, 'objections', {
    objectionId: 'o-1',
    noticeId: open,
    householdId: null,
    summary: '名单中有一户已搬离本村',
    channel: 'counter',
    filedOn: '2024-01-05',
  });
  await ledger(county, 'objection-resolutions', {
    objectionId: 'o-1',
    outcome: 'dismissed',
    note: '经核实该户仍在本村居住',
  });
  return { paid, open, roster, unlisted, upheld, waiting };
}
