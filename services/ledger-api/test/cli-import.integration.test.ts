import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestInfra } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// The CLI is a package; this end-to-end test drives it against a listening ledger-api.
import { importLedgerFile } from '../../../packages/cli/src/commands/ledger-command';
import type { Writers } from '../src/routes/shared';
import { startCliTestApp } from './app-fixture';
import { fundPool, registerHouseholds } from './fixtures';

const infra = useTestInfra({ database: false });
const secret = 'ledger-api-test-secret-of-at-least-32-bytes';
const county = '411325';
let served: Awaited<ReturnType<typeof startCliTestApp>>;
let writers: Writers;
let url: string;
let token: string;

beforeAll(async () => {
  served = await startCliTestApp(infra, { partitions: [county], jwtSecret: secret });
  ({ writers, url, token } = served);
  await fundPool(writers.get(county)!, 100_000_000n);
  await registerHouseholds(infra.js, infra.jsm, infra.ns, county, ['H1', 'H2', 'H3']);
});

afterAll(async () => {
  await served?.close();
});

/** A file in the served app's temp directory (removed when the app closes). */
function file(name: string, text: string): string {
  const path = join(served.dir, name);
  writeFileSync(path, text);
  return path;
}

describe('fundtrace ledger import roster', () => {
  it('appends nothing while any row is bad, lists each with its row number, then imports and resumes idempotently', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const options = { partition: county, dryRun: false, account: 'POOL', url, token };
    const header = '户编号,姓名,项目代码,金额(元),期间,公示编号,数量\n';

    const bad = file(
      'bad.csv',
      `${header}H1,张三,dibao_class1,190,2024-06,N1,1\nH9,李四,dibao_class1,190,2024-06,N1,1\nH2,王五,dibao_class1,1000,2024-06,N1,1\n`,
    );
    expect(await importLedgerFile('roster', bad, options)).toBe(2);
    const complaint = stderr.mock.calls.map((c) => String(c[0])).join('');
    expect(complaint).toMatch(/ {2}第 3 行：户 H9 不在扶贫对象登记库中.*（household_not_registered）\n/);
    expect(complaint).toMatch(/ {2}第 4 行：1,000\.00 元 高于「农村低保 一类.*（above_standard）\n/);
    expect(writers.get(county)!.state.payments.size).toBe(0);

    const good = file(
      'good.csv',
      `${header}H1,张三,dibao_class1,190,2024-06,N1,1\nH2,李四,dibao_class1,380,2024-06,N1,2\nH3,王五,dibao_class1,570,2024-06,N1,3\n`,
    );
    expect(await importLedgerFile('roster', good, { ...options, dryRun: true })).toBe(0);
    expect(writers.get(county)!.state.payments.size).toBe(0);
    expect(await importLedgerFile('roster', good, options)).toBe(0);
    expect(writers.get(county)!.state.payments.size).toBe(3);
    // The same file again: the derived command id makes it a duplicate, not a second roster.
    expect(await importLedgerFile('roster', good, options)).toBe(0);
    const said = stdout.mock.calls.map((c) => String(c[0])).join('');
    expect(said).toContain('试运行：good.csv 的 3 行均通过记账系统的检查（1 条命令），未登记任何内容');
    expect(said).toMatch(
      /已导入 good\.csv：花名册 RS-dibao-class1-2024-06-[0-9a-f]{8}，1 条命令，记入 \d+ 条事件\n/,
    );
    expect(said).toContain('（1 条此前已登记，本次未重复登记）');
    expect(writers.get(county)!.state.payments.size).toBe(3);
    stderr.mockRestore();
    stdout.mockRestore();
  });
});

describe('fundtrace ledger import roster --as-notice', () => {
  it('publishes a roster file as the notice’s list (公示名单); a later roster off the list is refused', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const notice = {
      partition: county,
      dryRun: false,
      account: 'POOL',
      url,
      token,
      asNotice: true,
      title: '2024年7月农村低保名单公示',
      stage: 'approval',
      startsOn: '2024-05-01',
      endsOn: '2024-05-10',
    };
    const header = '户编号,姓名,项目代码,金额(元),期间,公示编号,数量\n';
    const bad = file(
      'notice-bad.csv',
      `${header}H1,张三,dibao_class1,190,2024-07,N2,1\nH9,李四,dibao_class1,190,2024-07,N2,1\n`,
    );
    expect(await importLedgerFile('roster', bad, notice)).toBe(2);
    // The ledger reports line 2; the officer reads the file's row 3.
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(
      /第 3 行：.*（household_not_registered）/,
    );
    expect(writers.get(county)!.state.notices.has('N2')).toBe(false);

    const good = file(
      'notice-good.csv',
      `${header}H1,张三,dibao_class1,190,2024-07,N2,1\nH2,李四,dibao_class1,380,2024-07,N2,2\n`,
    );
    expect(await importLedgerFile('roster', good, notice)).toBe(0);
    const lines = writers.get(county)!.state.notices.get('N2')!.lines;
    expect([...lines.entries()]).toEqual([
      ['H1', { line: 1, quantity: 1, amountFen: 19_000n }],
      ['H2', { line: 2, quantity: 2, amountFen: 38_000n }],
    ]);

    // The finance officer's view of the notice counts the list.
    const view = await fetch(`${url}/v1/partitions/${county}/notices/N2`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await view.json()).toMatchObject({ listedHouseholds: 2, listedTotalFen: '57000' });

    const roster = { partition: county, dryRun: false, account: 'POOL', url, token };
    const unlisted = file(
      'roster-07.csv',
      `${header}H1,张三,dibao_class1,190,2024-07,N2,1\nH3,王五,dibao_class1,190,2024-07,N2,1\n`,
    );
    stderr.mockClear();
    expect(await importLedgerFile('roster', unlisted, roster)).toBe(2);
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(
      /第 3 行：未经公示：.*（not_on_notice）/,
    );
    stderr.mockRestore();
    stdout.mockRestore();
  });
});
