import { describe, expect, it } from 'vitest';
import { allocationLines, householdHeadline, paymentLine } from '../src/commands/trace';

// `fundtrace trace household` prints one headline per payment; the date beside the status must be
// that status's day, or an inspector reads the instruction day as the day the bank paid.
describe('paymentLine', () => {
  const june = {
    paymentId: 'RS-DIBAO-2024-06-r2',
    programmeCode: 'dibao_class1',
    period: '2024-06',
    amountFen: '57000',
    instructedOn: '2024-06-12',
    settledOn: null,
    returnedOn: null,
  };

  it('shows an instructed payment with its instruction day', () => {
    expect(paymentLine({ ...june, status: 'instructed' })).toBe(
      'RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 instructed 2024-06-12',
    );
  });

  it('shows a settled payment with the settlement day, and the instruction day beside it', () => {
    expect(paymentLine({ ...june, status: 'settled', settledOn: '2024-06-20' })).toBe(
      'RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 settled 2024-06-20 (instructed 2024-06-12)',
    );
  });

  it('shows a returned payment with the day the bank returned it', () => {
    expect(paymentLine({ ...june, status: 'returned', returnedOn: '2024-06-21' })).toBe(
      'RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 returned 2024-06-21 (instructed 2024-06-12)',
    );
  });

  it('falls back to the instruction day when the status day is unknown', () => {
    expect(paymentLine({ ...june, status: 'reversed' })).toBe(
      'RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 reversed 2024-06-12',
    );
  });
});

// The first line of `trace household`: audit-api's paidFen counts instructed payments too, and
// "1,710.00 元 paid" over two payments still at the bank read as money that had arrived.
describe('householdHeadline', () => {
  const pay = (status: string, amountFen: string) => ({ status, amountFen });
  it('says what is settled and what still awaits the bank', () => {
    const body = {
      householdId: '41132500000001',
      paidFen: '171000',
      payments: [pay('settled', '57000'), pay('instructed', '57000'), pay('instructed', '57000')],
    };
    expect(householdHeadline('411325', body)).toBe(
      '户 41132500000001 (411325): 3 payments, 1,710.00 元 paid or being paid: 570.00 元 settled, 1,140.00 元 awaiting the bank',
    );
  });
  it('says paid when everything is settled (a return is not counted)', () => {
    const body = {
      householdId: '41132500000002',
      paidFen: '57000',
      payments: [pay('settled', '57000'), pay('returned', '57000')],
    };
    expect(householdHeadline('411325', body)).toBe('户 41132500000002 (411325): 2 payments, 570.00 元 paid');
  });
});

describe('allocationLines', () => {
  it('names each figure in Chinese and English, in 元, aligned in a terminal', () => {
    const lines = allocationLines({ issuedFen: '300000000', inTransitFen: '0', unspentFen: '222270000' });
    expect(lines).toEqual([
      '下达 issued                        3,000,000.00 元',
      '在途 in transit                            0.00 元',
      '未支出 unspent                     2,222,700.00 元',
    ]);
  });
});
