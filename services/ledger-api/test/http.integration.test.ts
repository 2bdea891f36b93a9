import { formatYuan } from '@fundtrace/money';
import type { App } from '@fundtrace/service-kit';
import { signToken } from '@fundtrace/service-kit';
import { useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from './app-fixture';
import { registerHouseholds } from './fixtures';

/**
 * The HTTP API against real NATS through app.inject: auth, one error format,
 * idempotent retries, the whole demo chain central → province → city → county
 * down to a roster paid to households, and the OpenAPI document.
 */

const infra = useTestInfra({ database: false });
const secret = 'ledger-api-test-secret-of-at-least-32-bytes';
const chain = ['000000', '410000', '411300', '411325'] as const;
let app: App;
let financeToken: string;
let countyToken: string;
let inspectorToken: string;
let counter = 0;

beforeAll(async () => {
  const notices: Array<[string, number]> = [];
  ({ app } = await startTestApp(infra, {
    partitions: chain,
    jwtSecret: secret,
    deps: { onNoticePublished: (partition, seq) => notices.push([partition, seq]) },
  }));
  financeToken = await signToken(
    secret,
    { sub: 'u1', role: 'finance', org: '财政', partitions: ['*'] },
    3600,
  );
  countyToken = await signToken(
    secret,
    { sub: 'u2', role: 'finance', org: '内乡县财政局', partitions: ['411325'] },
    3600,
  );
  inspectorToken = await signToken(
    secret,
    { sub: 'u3', role: 'inspector', org: '纪委', partitions: ['*'] },
    3600,
  );
});

afterAll(async () => {
  await app?.close();
});

async function post(
  partition: string,
  path: string,
  body: Record<string, unknown>,
  token = financeToken,
  query = '',
) {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/partitions/${partition}/${path}${query}`,
    headers: { authorization: `Bearer ${token}` },
    payload: { commandId: `c-${++counter}`, ...body },
  });
  return { status: response.statusCode, body: response.json() };
}

async function get(partition: string, path: string, token = financeToken) {
  const response = await app.inject({
    method: 'GET',
    url: `/v1/partitions/${partition}/${path}`,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.statusCode, body: response.json() };
}

const yuan = (n: number) => String(n * 100);

describe('ledger-api HTTP', () => {
  it('requires a finance token scoped to the partition', async () => {
    const open = { accountId: 'POOL', kind: 'pool', name: '专户' };
    const none = await app.inject({ method: 'POST', url: '/v1/partitions/411325/accounts', payload: open });
    expect(none.statusCode).toBe(401);
    expect((await post('411325', 'accounts', open, inspectorToken)).status).toBe(403);
    const outside = await post('410000', 'accounts', open, countyToken);
    expect(outside).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const elsewhere = await post('110000', 'accounts', open);
    expect(elsewhere.body.error.code).toBe('partition_not_served');
    expect(elsewhere.body.error.message).toMatch(/^本服务不记账套 110000 的账；本服务记账的账套为 000000、/);
    // The edge's own refusals speak Chinese too (0131).
    const missing = await get('411325', 'payments/NO-SUCH-PAYMENT');
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(missing.body.error.message).toBe('本级账套中没有补贴发放 NO-SUCH-PAYMENT；请核对编号。');
  });

  it('lists every invalid field of a command at once', async () => {
    const r = await post('411325', 'payments', { paymentId: 'bad id', amountFen: 12.5, quantity: 0 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details.issues.length).toBeGreaterThanOrEqual(5);
  });

  it('runs the demo chain from a central appropriation to a paid roster, idempotently', async () => {
    for (const p of chain) {
      expect((await post(p, 'accounts', { accountId: 'POOL', kind: 'pool', name: `${p}专户` })).status).toBe(
        201,
      );
    }
    // Central receives the budget appropriation: money enters the system (root tranche).
    const root = await post('000000', 'receipts', {
      receiptId: 'BUDGET-2024',
      accountId: 'POOL',
      amountFen: yuan(10_000_000),
      origin: {
        kind: 'external',
        payer: '中央财政',
        documentNumber: '财预〔2024〕1号',
        fundSource: 'central',
        purpose: 'general',
        fiscalYear: 2024,
      },
    });
    expect(root.status).toBe(201);
    // Down the chain: issue, then receive at the next level.
    const levels: Array<[string, string, number]> = [
      ['000000', '410000', 5_000_000],
      ['410000', '411300', 2_000_000],
      ['411300', '411325', 1_000_000],
    ];
    for (const [from, to, amount] of levels) {
      const issued = await post(from, 'allocations', {
        allocationId: `AL-${to}`,
        toPartition: to,
        fromAccountId: 'POOL',
        documentNumber: `财农〔2024〕${to}号`,
        fundSource: 'central',
        purpose: 'general',
        fiscalYear: 2024,
        title: '中央财政专项扶贫资金',
        amountFen: yuan(amount),
      });
      expect(issued.status).toBe(201);
      const received = await post(to, 'receipts', {
        receiptId: `RC-${to}`,
        accountId: 'POOL',
        amountFen: yuan(amount),
        origin: { kind: 'partition', partition: from, allocationId: `AL-${to}` },
      });
      expect(received.status).toBe(201);
    }
    const county = await get('411325', 'accounts/POOL');
    expect(county.body).toMatchObject({ balanceFen: yuan(1_000_000), trancheCount: 1 });
    expect(county.body.tranches[0]).toMatchObject({
      fundSource: 'central',
      documentNumber: '财农〔2024〕411325号',
    });

    // Notice, households, roster.
    expect(
      (
        await post('411325', 'notices', {
          noticeId: 'N-2024-06',
          kind: 'programme',
          title: '2024年6月农村低保发放名单公示',
          stage: 'approval',
          programmeCode: 'dibao_class1',
          period: '2024-06',
          startsOn: '2024-06-01',
          endsOn: '2024-06-07',
        })
      ).status,
    ).toBe(201);
    const households = Array.from({ length: 300 }, (_, i) => `411325-${String(i).padStart(5, '0')}`);
    await registerHouseholds(infra.js, infra.jsm, infra.ns, '411325', households);
    const rows = households.map((householdId, i) => ({
      row: i + 2,
      householdId,
      quantity: 2,
      amountFen: yuan(380),
    }));
    const roster = {
      rosterId: 'RS-2024-06',
      programmeCode: 'dibao_class1',
      period: '2024-06',
      accountId: 'POOL',
      noticeId: 'N-2024-06',
    };

    // Bad rows: every one reported with its spreadsheet row number; nothing appended.
    const seqBefore = (await get('411325', 'summary')).body.seq;
    const bad = await post('411325', 'rosters', {
      ...roster,
      rows: [
        ...rows.slice(0, 3),
        { row: 305, householdId: 'NOBODY', quantity: 1, amountFen: yuan(100) },
        { row: 306, householdId: rows[0]!.householdId, quantity: 1, amountFen: '1.5' },
      ],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('roster_rows_invalid');
    expect(bad.body.error.details.errors).toEqual([
      expect.objectContaining({ row: 306, code: 'invalid_row' }),
    ]);
    const bad2 = await post('411325', 'rosters', {
      ...roster,
      rows: [
        ...rows.slice(0, 3),
        { row: 305, householdId: 'NOBODY', quantity: 1, amountFen: yuan(100) },
        { row: 306, householdId: rows[0]!.householdId, quantity: 1, amountFen: yuan(100) },
      ],
    });
    expect(bad2.body.error.details.errors.map((e: { row: number; code: string }) => [e.row, e.code])).toEqual(
      [
        [305, 'household_not_registered'],
        [306, 'duplicate_payment'],
      ],
    );
    expect((await get('411325', 'summary')).body.seq).toBe(seqBefore);

    const dry = await post('411325', 'rosters', { ...roster, rows }, financeToken, '?dryRun=true');
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, eventCount: 301 } });

    const commandId = 'roster-2024-06-upload-1';
    const submitted = await post('411325', 'rosters', { ...roster, rows, commandId });
    expect(submitted).toMatchObject({ status: 201, body: { eventCount: 301, duplicate: false } });
    const retried = await post('411325', 'rosters', { ...roster, rows, commandId });
    expect(retried).toEqual({ status: 200, body: { ...submitted.body, duplicate: true } });
    const reused = await post('411325', 'rosters', { ...roster, rows: rows.slice(1), commandId });
    expect(reused).toMatchObject({ status: 409, body: { error: { code: 'idempotency_key_reused' } } });

    // The bank answers: one settled, one returned (money back to its exact tranche).
    const paymentId = 'RS-2024-06-r2';
    expect(
      (
        await post('411325', 'payment-settlements', {
          paymentId,
          bankReference: 'RCC-0001',
          settledOn: '2024-06-14',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await post('411325', 'payment-returns', {
          paymentId: 'RS-2024-06-r3',
          reason: '账户已销户',
          returnedOn: '2024-06-14',
        })
      ).status,
    ).toBe(201);
    const progress = await get('411325', 'rosters/RS-2024-06');
    expect(progress.body).toMatchObject({
      rowCount: 300,
      instructed: 300,
      settled: 1,
      returned: 1,
      awaitingBank: 298,
    });
    const payment = await get('411325', `payments/${paymentId}`);
    expect(payment.body).toMatchObject({
      status: 'settled',
      amountFen: yuan(380),
      tranches: [{ trancheId: 'rc_RC-411325_1' }],
    });
    const summary = await get('411325', 'summary');
    expect(
      BigInt(summary.body.balanceFen) + BigInt(summary.body.reservedFen) + BigInt(summary.body.settledFen),
    ).toBe(BigInt(yuan(1_000_000)));
    expect(summary.body.settledFen).toBe(yuan(380));

    // Over-spending is refused with a message and the shortfall.
    const tooMuch = await post('411325', 'allocations', {
      allocationId: 'AL-X',
      toPartition: '411326',
      fromAccountId: 'POOL',
      documentNumber: '内财〔2024〕9号',
      fundSource: 'central',
      purpose: 'general',
      fiscalYear: 2024,
      title: '超额',
      amountFen: yuan(1_000_000),
    });
    expect(tooMuch).toMatchObject({ status: 422, body: { error: { code: 'insufficient_funds' } } });
    // In Chinese for the finance officer, naming the account, the amounts in 元 and the shortfall (0131).
    const availableFen = BigInt(summary.body.balanceFen);
    const shortFen = BigInt(yuan(1_000_000)) - availableFen;
    expect(tooMuch.body.error.message).toBe(
      `账户 POOL 可用于 general 的资金为 ${formatYuan(availableFen)} 元，本次需要 1,000,000.00 元，差 ${formatYuan(shortFen)} 元；请待资金到账后再办理，或减少金额。`,
    );
    expect(tooMuch.body.error.details).toMatchObject({
      accountId: 'POOL',
      requestedFen: yuan(1_000_000),
      shortfallFen: shortFen.toString(),
    });

    // A bank's date after today (the writers' clock: 2024-06-15) is refused in Chinese naming both
    // dates, alone and as a row of a 回盘 file, where the refused row is named by its number.
    const future = { paymentId: 'RS-2024-06-r4', bankReference: 'RCC-0004', settledOn: '2030-01-01' };
    const late = await post('411325', 'payment-settlements', future);
    expect(late).toMatchObject({ status: 422, body: { error: { code: 'date_in_future' } } });
    const lateMessage = '银行回盘日期 2030-01-01 晚于今天（2024-06-15）；请核对到账或退回日期。';
    expect(late.body.error.message).toBe(lateMessage);
    const file = await post('411325', 'bank-results', {
      rows: [
        {
          row: 2,
          paymentId: 'RS-2024-06-r5',
          result: 'settled',
          bankReference: 'RCC-0005',
          settledOn: '2024-06-14',
        },
        { row: 3, result: 'settled', ...future },
      ],
    });
    expect(file).toMatchObject({ status: 422, body: { error: { code: 'bank_results_invalid' } } });
    expect(file.body.error.message).toBe(
      '银行回盘 2 行中有 1 行不符合要求，整个文件未登记；请改正后重新导入。',
    );
    expect(file.body.error.details.errors).toEqual([
      { row: 3, code: 'date_in_future', message: lateMessage },
    ]);
    expect((await get('411325', 'rosters/RS-2024-06')).body).toMatchObject({ settled: 1, awaitingBank: 298 });
  });

  it('documents every command and query in OpenAPI', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const paths = Object.keys(doc.paths);
    for (const path of [
      'rosters',
      'payments',
      'receipts',
      'allocations',
      'reversals',
      'year-closings',
      'objections',
    ]) {
      expect(paths).toContain(`/v1/partitions/{partition}/${path}`);
    }
    expect(paths).toContain('/v1/partitions/{partition}/accounts/{accountId}');
    const roster = doc.paths['/v1/partitions/{partition}/rosters'].post;
    expect(JSON.stringify(roster.requestBody)).toContain('householdId');
  });
});
