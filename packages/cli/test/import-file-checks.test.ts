import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { householdColumns } from '@fundtrace/pii';
import { factsOf, notChinese } from '@fundtrace/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

/**
 * `fundtrace ledger import` and `registry import` as an officer runs them, on files the CLI refuses
 * itself before any request (decision 0135): every line in Chinese, 第 N 行：<列名>：<原因>, the
 * cells and counts quoted as typed. The service URL answers nothing (port 9, discard): a request made
 * would fail with a connection error instead.
 */
const nowhere = ['--url', 'http://127.0.0.1:9', '--token', 'x'];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'import-file-checks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** Each line of the output is Chinese once the facts it must quote are taken out. */
function expectChinese(output: string, facts: readonly unknown[]) {
  const lines = output.trimEnd().split('\n');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(notChinese(line, factsOf(facts)), line).toBeUndefined();
}

describe('fundtrace ledger import: the file’s own checks', () => {
  it('lists each bad row as 第 N 行：<列名>：<原因> under a Chinese heading, and appends nothing', async () => {
    const roster = await file(
      'roster.csv',
      '户编号,项目代码,金额(元),期间,数量\n' +
        '41132500000001,dibao_class1,190.00,2024-06,1\n' +
        '41132500000002,dibao_class1,38.123,2024-06,1\n' +
        '41132500000003,dibao_class1,190.00,2024-06,x\n' +
        '41132500000004,dibao_class1,-5,2024-06,1\n' +
        '41132500000005,dibao_class2,190.00,2024-06,1\n',
    );
    const run = await runCli([
      'ledger',
      'import',
      'roster',
      roster,
      '--partition',
      '411325',
      '--dry-run',
      ...nowhere,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('roster.csv 中有 4 行有误，未登记任何内容：\n');
    expect(run.stderr).toContain('  第 3 行：金额(元)：“38.123”超过两位小数（金额最小到分）\n');
    expect(run.stderr).toContain('  第 4 行：数量：“x”不是整数\n');
    expect(run.stderr).toContain('  第 5 行：金额(元)：“-5”是负数，此处不接受负数金额\n');
    expect(run.stderr).toContain('  第 6 行：项目代码：“dibao_class2”与第一行的“dibao_class1”不同');
    expectChinese(run.stderr, ['roster.csv', 4, '38.123', '-5', 'x', 'dibao_class1', 'dibao_class2']);
  });

  it('says a bank file’s missing reason, unknown result and bad date in Chinese', async () => {
    const bank = await file(
      'settle.csv',
      '花名册编号,花名册行号,处理结果,失败原因,银行流水号,处理日期\n' +
        'RS-1,2,失败,,,2024-06-20\n' +
        'RS-1,3,待定,,,2024-06-20\n' +
        'RS-1,4,成功,,B4,20/06/2024\n',
    );
    const run = await runCli(['ledger', 'import', 'settlements', bank, '--partition', '411325', ...nowhere]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('  第 2 行：失败原因：处理失败的支付必须填写\n');
    expect(run.stderr).toContain('  第 3 行：处理结果：“待定”应填 成功 或 失败\n');
    expect(run.stderr).toContain('  第 4 行：处理日期：“20/06/2024”不是日期（YYYY-MM-DD）\n');
    expectChinese(run.stderr, ['settle.csv', 3, 'YYYY-MM-DD', '20/06/2024']);
  });

  it('says which required columns a file lacks, naming the headers it accepts', async () => {
    const roster = await file('no-amount.csv', '户编号,项目代码,期间\n41132500000001,dibao_class1,2024-06\n');
    const run = await runCli(['ledger', 'import', 'roster', roster, '--partition', '411325', ...nowhere]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('无法读取该文件：表头（第 1 行）有误（header_invalid）\n');
    expect(run.stderr).toContain('  缺少必填列 金额(元)（amount）；可用的列名：');
    // The codes and field names are identifiers: the code for whoever helps, the field as the API says it.
    expectChinese(run.stderr, ['header_invalid', 'amount', 'amount_yuan', '金额(元)']);
  });
});

describe('fundtrace registry import: a file it cannot read', () => {
  it('lists the header’s problems in Chinese, each with its code, and imports nothing', async () => {
    const households = await file('households.csv', '户编号,姓名\n41132500000301,张三\n');
    const run = await runCli(['registry', 'import', households, '--partition', '411325', ...nowhere]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^0 行中有 \d+ 处问题，未导入任何内容：\n/);
    expect(run.stderr).toContain('  第 1 行：缺少必填列 身份证号（idNumber）');
    // The column keys are the file format's English aliases, quoted as identifiers.
    expectChinese(run.stderr, ['header_invalid', ...householdColumns.map((c) => c.key)]);
  });
});
