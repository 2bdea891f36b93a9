import { describe, expect, it } from 'vitest';
import { paymentLine } from '../src/commands/trace';

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
