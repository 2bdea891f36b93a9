import { factsOf, notChinese } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import {
  badRowsHeading,
  dryRunSummary,
  formatRefusals,
  formatRowErrors,
  importedSummary,
  noSuchPayment,
  refusal,
  refusalHeading,
} from '../src/commands/ledger-command';

/** What `fundtrace ledger import` tells the officer after the ledger answered. */
describe('ledger import output', () => {
  it('counts refused rows, and says the file was refused when a refusal names no row', () => {
    const notice = {
      row: 0,
      message: '公示 N-1 的公示期到 2026-11-29 为止；请从次日起再发放。（notice_period_not_over）',
    };
    // A roster under a notice whose period is not over: nothing is wrong with any one row.
    expect(refusalHeading([notice])).toBe('记账系统拒绝了整个文件');
    expect(
      refusalHeading([
        { row: 3, message: 'household_not_registered: …' },
        { row: 3, message: 'above_standard: …' },
        { row: 6, message: 'duplicate_payment: …' },
      ]),
    ).toBe('记账系统拒绝了 2 行');
    expect(refusalHeading([{ row: 4, message: 'x' }, notice])).toBe('记账系统拒绝了 1 行，并拒绝了整个文件');
  });

  it('prints each refusal under its file row number, in the ledger’s Chinese words with the code after them', () => {
    const refused = [
      { row: 6, message: refusal('duplicate_payment', '户 H001 已发放过 dibao_class1 2024-06 期的补贴。') },
      { row: 0, message: refusal('notice_period_not_over', '公示 N-1 的公示期到 2026-11-29 为止。') },
      { row: 3, message: refusal('household_not_registered', '户 H9 不在扶贫对象登记库中。') },
    ];
    expect(formatRefusals(refused).split('\n')).toEqual([
      '  公示 N-1 的公示期到 2026-11-29 为止。（notice_period_not_over）',
      '  第 3 行：户 H9 不在扶贫对象登记库中。（household_not_registered）',
      '  第 6 行：户 H001 已发放过 dibao_class1 2024-06 期的补贴。（duplicate_payment）',
    ]);
  });

  it('names the roster or notice it made, the id to ask ledger-api about, in Chinese', () => {
    const roster = { path: 'rosters', body: { rosterId: 'RS-dibao-class1-2024-09-cbda2c6b' } };
    const booked = importedSummary('roster-09.xlsx', [roster], 5, 0);
    expect(booked).toBe(
      '已导入 roster-09.xlsx：花名册 RS-dibao-class1-2024-09-cbda2c6b，1 条命令，记入 5 条事件',
    );
    const notice = { path: 'notices', body: { noticeId: 'N-DIBAO-2024-09' } };
    const again = importedSummary('roster-09.xlsx', [notice], 2, 1);
    expect(again).toBe(
      '已导入 roster-09.xlsx：公示 N-DIBAO-2024-09，1 条命令，记入 2 条事件（1 条此前已登记，本次未重复登记）',
    );
    const allocations = [1, 2].map((i) => ({ path: 'allocations', body: { allocationId: `AL-${i}` } }));
    const issued = importedSummary('alloc.csv', allocations, 2, 0);
    expect(issued).toBe('已导入 alloc.csv：2 条命令，记入 2 条事件');
    const facts = (...f: unknown[]) => factsOf(f);
    expect(notChinese(booked, facts('roster-09.xlsx', roster.body.rosterId, 1, 5))).toBeUndefined();
    expect(notChinese(again, facts('roster-09.xlsx', notice.body.noticeId, 1, 2))).toBeUndefined();
    expect(notChinese(issued, facts('alloc.csv', 2))).toBeUndefined();
  });

  it('says what a bank file recorded in the notice board’s words: 已到账, 银行退回', () => {
    const bank = {
      path: 'bank-results',
      body: {
        rows: [
          { row: 2, paymentId: 'P1', result: 'settled', bankReference: 'B1', settledOn: '2024-06-20' },
          { row: 3, paymentId: 'P2', result: 'returned', reason: '账户已销户', returnedOn: '2024-06-20' },
        ],
      },
    };
    const said = importedSummary('回盘.csv', [bank], 1, 1);
    expect(said).toBe(
      '已导入 回盘.csv：1 笔已到账（成功），1 笔银行退回（失败），记入 1 条事件（1 笔此前已记录，本次未重复记录）',
    );
    expect(notChinese(said, factsOf(['回盘.csv', 1]))).toBeUndefined();
  });

  it('heads the file’s own bad rows and words a dry run in Chinese, quoting the file and the counts', () => {
    const errors = [
      { row: 3, message: '金额(元)：“38.123”超过两位小数（金额最小到分）' },
      { row: 7, message: '金额(元)：“-5”是负数，此处不接受负数金额' },
    ];
    const heading = badRowsHeading('roster.csv', errors);
    expect(heading).toBe('roster.csv 中有 2 行有误，未登记任何内容：');
    expect(formatRowErrors(errors).split('\n')).toEqual([
      '  第 3 行：金额(元)：“38.123”超过两位小数（金额最小到分）',
      '  第 7 行：金额(元)：“-5”是负数，此处不接受负数金额',
    ]);
    const dry = dryRunSummary('roster.csv', 3, 1);
    expect(dry).toBe('试运行：roster.csv 的 3 行均通过记账系统的检查（1 条命令），未登记任何内容');
    for (const [text, facts] of [
      [heading, ['roster.csv', 2]],
      [dry, ['roster.csv', 3, 1]],
    ] as const)
      expect(notChinese(text, factsOf(facts))).toBeUndefined();
  });
});

describe('a bank row naming no payment', () => {
  it('says which columns to check, keeping the code', () => {
    const message = noSuchPayment('RS-SETTLE-r9');
    expect(message).toMatch(/^记账系统中没有补贴发放 RS-SETTLE-r9；请核对该行的支付编号/);
    expect(message).toContain('花名册编号和花名册行号');
    expect(message).toMatch(/（payment_not_found）$/);
  });
});
