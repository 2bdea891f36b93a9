import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ledger } from '@fundtrace/events';
import { useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// The CLI is a package; this end-to-end test drives it against a listening ledger-api.
import { importLedgerFile } from '../../../packages/cli/src/commands/ledger-command';
// ledger-api itself reads no spreadsheets: the bank's XLSX is written with the package the CLI reads it with.
import { writeXlsx } from '../../../packages/tabular/src/index';
import type { Writers } from '../src/routes/shared';
import { startCliTestApp } from './app-fixture';
import { fundPool, registerHouseholds } from './fixtures';

/**
 * `fundtrace ledger import settlements <回盘>`: the bank's result file of a paid roster, read with
 * @fundtrace/tabular and sent to a listening ledger-api as one bank-results command (decision
 * 0129): one dry run, then one append, however many rows. A bad row is named by its row number and
 * nothing is appended; the same file run twice records nothing twice; a row contradicting a
 * recorded result (another 银行流水号) is refused by row in Chinese (0134).
 */
const infra = useTestInfra({ database: false });
const secret = 'ledger-api-test-secret-of-at-least-32-bytes';
const county = '411325';
const rosterId = 'RS-SETTLE';
let served: Awaited<ReturnType<typeof startCliTestApp>>;
let writers: Writers;
let url: string;
let token: string;
let dir: string;

beforeAll(async () => {
  served = await startCliTestApp(infra, { partitions: [county], jwtSecret: secret });
  ({ writers, url, token, dir } = served);
  await fundPool(writers.get(county)!, 100_000_000n);
  await registerHouseholds(infra.js, infra.jsm, infra.ns, county, ['H1', 'H2', 'H3', 'H4']);
});

afterAll(async () => {
  await served?.close();
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const statuses = () =>
  [2, 3, 4, 5].map((row) => writers.get(county)!.state.payments.get(`${rosterId}-r${row}`)?.status);

/** The bank's columns: 户名 and 账号 are personal data the CLI never reads. */
const bankHeader = '花名册行号,户编号,户名,账号,金额,处理结果,失败原因,银行流水号,处理日期\n';

describe('fundtrace ledger import settlements', () => {
  it('refuses a file with bad rows by row number, records a good one in two requests, and records nothing twice', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const said = (spy: typeof stderr) => spy.mock.calls.map((c) => String(c[0])).join('');
    const options = { partition: county, dryRun: false, account: 'POOL', url, token, rosterId };

    // A June 低保 roster of four households, paid (instructed): rows 2–5 are payments RS-SETTLE-r2…r5.
    const roster = file(
      'roster.csv',
      '户编号,项目代码,金额(元),期间,公示编号,数量\nH1,dibao_class1,190,2024-06,N1,1\nH2,dibao_class1,380,2024-06,N1,2\nH3,dibao_class1,570,2024-06,N1,3\nH4,dibao_class1,190,2024-06,N1,1\n',
    );
    expect(await importLedgerFile('roster', roster, options)).toBe(0);
    expect(statuses()).toEqual(['instructed', 'instructed', 'instructed', 'instructed']);

    // Rows the CLI can judge alone: a failure without its reason, a result that is neither.
    const unreadable = file(
      'bad-local.csv',
      `${bankHeader}2,H1,张三,6228480402564890018,190.00,成功,,B001,2024-06-14\n3,H2,李四,6228480402564890026,380.00,失败,,,2024-06-14\n4,H3,王五,6228480402564890034,570.00,待定,,,2024-06-14\n`,
    );
    expect(await importLedgerFile('settlements', unreadable, options)).toBe(2);
    expect(said(stderr)).toContain('  第 3 行：失败原因：处理失败的支付必须填写\n');
    expect(said(stderr)).toContain('  第 4 行：处理结果：“待定”应填 成功 或 失败\n');
    expect(statuses()).toEqual(['instructed', 'instructed', 'instructed', 'instructed']);

    // Rows only the ledger can judge: an amount that is not the payment's, a row the roster lacks, a
    // date after today (the writers' clock: 2024-06-15). The whole file is one dry run: one request.
    stderr.mockClear();
    const requests: string[] = [];
    const count = (request: { method?: string; url?: string }) => {
      requests.push(`${request.method} ${request.url}`);
    };
    served.app.server.on('request', count);
    const mismatched = file(
      'bad-ledger.csv',
      `${bankHeader}2,H1,张三,6228480402564890018,190.00,成功,,B001,2024-06-14\n3,H2,李四,6228480402564890026,400.00,失败,账户已销户,,2024-06-14\n9,H9,赵六,6228480402564890042,190.00,成功,,B009,2024-06-14\n5,H4,钱七,6228480402564890059,190.00,成功,,B004,2024-07-14\n`,
    );
    expect(await importLedgerFile('settlements', mismatched, options)).toBe(2);
    // Each refused row by its file row number, with the ledger's Chinese reason and its code (0131).
    expect(said(stderr)).toContain(
      '  第 3 行：补贴发放 RS-SETTLE-r3：金额 400.00 元 与该笔发放的 380.00 元 不符；请核对回盘是否对应这份花名册，行是否错位。（bank_row_mismatch）',
    );
    expect(said(stderr)).toMatch(
      / {2}第 4 行：记账系统中没有补贴发放 RS-SETTLE-r9；请核对该行的支付编号.*（payment_not_found）/,
    );
    expect(said(stderr)).toContain(
      '  第 5 行：银行回盘日期 2024-07-14 晚于今天（2024-06-15）；请核对到账或退回日期。（date_in_future）',
    );
    expect(said(stderr)).not.toMatch(/第 2 行/);
    expect(said(stderr)).toContain('记账系统拒绝了 3 行，未登记任何内容：');
    expect(statuses()).toEqual(['instructed', 'instructed', 'instructed', 'instructed']);
    expect(said(stderr)).not.toContain('6228480402564890');
    const bankResults = `POST /v1/partitions/${county}/bank-results`;
    expect(requests).toEqual([`${bankResults}?dryRun=true`]);

    // The bank's good file: three paid, one returned (账户已销户); row 5 names its payment by 支付编号.
    const good = file(
      'hui-pan.csv',
      `支付编号,${bankHeader}${[
        ',2,H1,张三,6228480402564890018,190.00,成功,,B001,2024-06-14',
        ',3,H2,李四,6228480402564890026,380.00,失败,账户已销户,,2024-06-14',
        ',4,H3,王五,6228480402564890034,570.00,成功,,B003,2024-06-14',
        `${rosterId}-r5,,,,,,成功,,B004,2024-06-15`,
      ].join('\n')}\n`,
    );
    // A dry run of it checks the whole file in one request and says how many rows are valid.
    stdout.mockClear();
    requests.length = 0;
    expect(await importLedgerFile('settlements', good, { ...options, dryRun: true })).toBe(0);
    expect(said(stdout)).toContain(
      '试运行：hui-pan.csv 的 4 行均通过记账系统的检查（1 条命令），未登记任何内容',
    );
    expect(requests).toEqual([`${bankResults}?dryRun=true`]);
    expect(statuses()).toEqual(['instructed', 'instructed', 'instructed', 'instructed']);
    stdout.mockClear();
    requests.length = 0;
    expect(await importLedgerFile('settlements', good, options)).toBe(0);
    expect(statuses()).toEqual(['settled', 'returned', 'settled', 'settled']);
    expect(said(stdout)).toContain(
      '已导入 hui-pan.csv：3 笔已到账（成功），1 笔银行退回（失败），记入 4 条事件',
    );
    // Two requests for the whole file, not two per row: the file checked, then appended.
    expect(requests).toEqual([`${bankResults}?dryRun=true`, bankResults]);
    const returned = writers.get(county)!.state.rosters.get(rosterId)!;
    expect(returned).toMatchObject({ settled: 3, returned: 1 });

    // The same file again: its command id is the file's, so nothing is recorded twice.
    const before = writers.get(county)!.state.rosters.get(rosterId)!;
    stdout.mockClear();
    requests.length = 0;
    expect(await importLedgerFile('settlements', good, options)).toBe(0);
    expect(said(stdout)).toContain('记入 0 条事件（4 笔此前已记录，本次未重复记录）');
    expect(writers.get(county)!.state.rosters.get(rosterId)).toEqual(before);
    expect(requests).toEqual([`${bankResults}?dryRun=true`, bankResults]);
    served.app.server.off('request', count);

    // Another file repeating row 2 as recorded (a re-export: another file, another command id):
    // the row agrees with what is recorded, so it is counted as recorded and nothing is appended (0134).
    const repeated = file(
      'hui-pan-repeated.csv',
      `${bankHeader}2,H1,张三,6228480402564890018,190.00,成功,,B001,2024-06-14\n`,
    );
    const tail = writers.get(county)!.state.seq;
    expect(await importLedgerFile('settlements', repeated, options)).toBe(0);
    expect(writers.get(county)!.state.seq).toBe(tail);
    expect(writers.get(county)!.state.rosters.get(rosterId)).toEqual(before);

    // Another file giving row 2 another bank reference: a second, different credit for one payment
    // is refused by row, in Chinese, for the officer to check with the bank; the first result stands.
    stderr.mockClear();
    const corrected = file(
      'hui-pan-corrected.csv',
      `${bankHeader}2,H1,张三,6228480402564890018,190.00,成功,,B001-X,2024-06-14\n4,H3,王五,6228480402564890034,570.00,成功,,B003,2024-06-14\n`,
    );
    expect(await importLedgerFile('settlements', corrected, options)).toBe(2);
    expect(said(stderr)).toContain('记账系统拒绝了 1 行，未登记任何内容：');
    expect(said(stderr)).toContain(
      '  第 2 行：补贴发放 RS-SETTLE-r2 已登记到账（银行流水号 B001，到账日期 2024-06-14），本次却是银行流水号 B001-X，到账日期 2024-06-14，银行流水号不符：同一笔发放出现了两个不同的到账结果（重复入账、回盘文件有误或录入错误）；已登记的结果未改动，请与银行核对该笔发放。（bank_result_conflict）',
    );
    expect(said(stderr)).not.toMatch(/第 4 行/);
    expect(said(stderr)).not.toContain('6228480402564890');
    expect(writers.get(county)!.state.payments.get(`${rosterId}-r2`)!.bankReference).toBe('B001');
    expect(writers.get(county)!.state.seq).toBe(tail);

    // An XLSX from the bank repeating row 2 (recorded) and contradicting row 3 (returned, now 成功).
    const xlsx = join(dir, 'hui-pan-2.xlsx');
    const columns = [
      { field: 'row', header: '花名册行号', kind: 'text' },
      { field: 'result', header: '处理结果', kind: 'text' },
      { field: 'reference', header: '银行流水号', kind: 'text' },
      { field: 'date', header: '处理日期', kind: 'text' },
    ] as const;
    await pipeline(
      writeXlsx(
        [
          { row: '2', result: '成功', reference: 'B001', date: '2024-06-14' },
          { row: '3', result: '成功', reference: 'B002', date: '2024-06-13' },
        ],
        [...columns],
      ),
      createWriteStream(xlsx),
    );
    stderr.mockClear();
    expect(await importLedgerFile('settlements', xlsx, options)).toBe(2);
    expect(said(stderr)).toMatch(
      /第 3 行：补贴发放 RS-SETTLE-r3 的状态已是“银行退回”.*（payment_not_in_flight）/,
    );
    expect(said(stderr)).not.toMatch(/第 2 行/);
    expect(statuses()).toEqual(['settled', 'returned', 'settled', 'settled']);
    stderr.mockRestore();
    stdout.mockRestore();
  });

  it('reads many payments in one request: each as GET …/payments/{id} answers it, and the ids not found', async () => {
    const lookup = (paymentIds: unknown, as = token) =>
      fetch(`${url}/v1/partitions/${county}/payments/lookup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
        body: JSON.stringify({ paymentIds }),
      });
    const one = await fetch(`${url}/v1/partitions/${county}/payments/${rosterId}-r3`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const answer = await lookup([`${rosterId}-r3`, 'NO-SUCH', `${rosterId}-r2`, `${rosterId}-r3`]);
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { payments: { paymentId: string }[]; missing: string[] };
    expect(body.payments.map((p) => p.paymentId)).toEqual([`${rosterId}-r3`, `${rosterId}-r2`]);
    expect(body.payments[0]).toEqual(await one.json());
    expect(body.missing).toEqual(['NO-SUCH']);
    // The API document carries it, with its limit.
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, { post?: { summary?: string } }>;
    };
    expect(doc.paths['/v1/partitions/{partition}/payments/lookup']?.post?.summary).toContain(
      `up to ${ledger.paymentLookupIdsMax} ids`,
    );
    // Bounded: one id more than the limit, or none, is refused by validation.
    for (const ids of [Array.from({ length: ledger.paymentLookupIdsMax + 1 }, (_, i) => `P${i}`), []]) {
      const refused = await lookup(ids);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
  });
});
