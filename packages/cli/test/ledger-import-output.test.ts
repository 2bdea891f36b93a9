import { describe, expect, it } from 'vitest';
import {
  formatRefusals,
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

  it('names the roster or notice it made, the id to ask ledger-api about', () => {
    const roster = { path: 'rosters', body: { rosterId: 'RS-dibao-class1-2024-09-cbda2c6b' } };
    expect(importedSummary('roster-09.xlsx', [roster], 5, 0)).toBe(
      'imported roster-09.xlsx: 1 command(s), 5 event(s) as roster RS-dibao-class1-2024-09-cbda2c6b',
    );
    const notice = { path: 'notices', body: { noticeId: 'N-DIBAO-2024-09' } };
    expect(importedSummary('roster-09.xlsx', [notice], 2, 1)).toBe(
      'imported roster-09.xlsx: 1 command(s), 2 event(s) as notice N-DIBAO-2024-09 (1 were already booked by an earlier run)',
    );
    const allocations = [1, 2].map((i) => ({ path: 'allocations', body: { allocationId: `AL-${i}` } }));
    expect(importedSummary('alloc.csv', allocations, 2, 0)).toBe(
      'imported alloc.csv: 2 command(s), 2 event(s)',
    );
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
