import { describe, expect, it } from 'vitest';
import { importedSummary, noSuchPayment, refusalHeading } from '../src/commands/ledger-command';

/** What `fundtrace ledger import` tells the officer after the ledger answered. */
describe('ledger import output', () => {
  it('counts refused rows, and says the file was refused when a refusal names no row', () => {
    const notice = { row: 0, message: 'notice_period_not_over: Notice N-1 runs until 2026-11-29 …' };
    // A roster under a notice whose period is not over: nothing is wrong with any one row.
    expect(refusalHeading([notice])).toBe('the ledger refused the file');
    expect(
      refusalHeading([
        { row: 3, message: 'household_not_registered: …' },
        { row: 3, message: 'above_standard: …' },
        { row: 6, message: 'duplicate_payment: …' },
      ]),
    ).toBe('2 row(s) refused by the ledger');
    expect(refusalHeading([{ row: 4, message: 'x' }, notice])).toBe(
      '1 row(s) refused by the ledger, and the file as a whole',
    );
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
    expect(message).toMatch(/^payment_not_found: the ledger has no payment RS-SETTLE-r9; /);
    expect(message).toContain('支付编号');
    expect(message).toContain('花名册编号 and 花名册行号');
  });
});
