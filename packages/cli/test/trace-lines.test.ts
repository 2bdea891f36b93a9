import { factsOf, notChinese } from '@fundtrace/testkit';
import { describe, expect, it } from 'vitest';
import { allocationLines, hopLine, householdHeadline, paymentLine } from '../src/commands/trace';

/** The ids, codes, dates and 元 a line quotes as they are: everything else must be Chinese (0135). */
const chinese = (line: string, facts: readonly unknown[]) => notChinese(line, factsOf(facts));

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
    const line = paymentLine({ ...june, status: 'instructed' });
    expect(line).toBe('RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 发放中 2024-06-12');
    expect(
      chinese(line, [june.paymentId, june.programmeCode, june.period, '570.00', june.instructedOn]),
    ).toBeUndefined();
  });

  it('shows a settled payment with the settlement day, and the instruction day beside it', () => {
    const line = paymentLine({ ...june, status: 'settled', settledOn: '2024-06-20' });
    expect(line).toBe(
      'RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 已到账 2024-06-20（发起于 2024-06-12）',
    );
    expect(
      chinese(line, [
        june.paymentId,
        june.programmeCode,
        june.period,
        '570.00',
        '2024-06-20',
        june.instructedOn,
      ]),
    ).toBeUndefined();
  });

  it('shows a returned payment with the day the bank returned it', () => {
    expect(paymentLine({ ...june, status: 'returned', returnedOn: '2024-06-21' })).toBe(
      'RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 银行退回 2024-06-21（发起于 2024-06-12）',
    );
  });

  it('falls back to the instruction day when the status day is unknown', () => {
    expect(paymentLine({ ...june, status: 'reversed' })).toBe(
      'RS-DIBAO-2024-06-r2 dibao_class1 2024-06 570.00 元 已冲正 2024-06-12',
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
    const line = householdHeadline('411325', body);
    expect(line).toBe(
      '户 41132500000001（411325）：补贴发放 3 笔，共 1,710.00 元，其中已到账 570.00 元、发放中 1,140.00 元',
    );
    expect(chinese(line, [body.householdId, '411325', 3, '1,710.00', '570.00', '1,140.00'])).toBeUndefined();
  });
  it('says paid when everything is settled (a return is not counted)', () => {
    const body = {
      householdId: '41132500000002',
      paidFen: '57000',
      payments: [pay('settled', '57000'), pay('returned', '57000')],
    };
    const line = householdHeadline('411325', body);
    expect(line).toBe('户 41132500000002（411325）：补贴发放 2 笔，已到账 570.00 元');
    expect(chinese(line, [body.householdId, '411325', 2, '570.00'])).toBeUndefined();
  });
});

describe('allocationLines', () => {
  it('names each figure in Chinese, in 元, aligned in a terminal', () => {
    const lines = allocationLines({
      issuedFen: '300000000',
      inTransitFen: '0',
      unspentFen: '222270000',
      returnedFen: '57000',
    });
    expect(lines).toEqual([
      '下达               3,000,000.00 元',
      '在途                       0.00 元',
      '未支出             2,222,700.00 元',
      '银行退回                 570.00 元',
    ]);
    for (const line of lines)
      expect(chinese(line, [line.replace(/\D+$/, '').trim().split(' ').pop()])).toBeUndefined();
  });
});

// A payment's lineage, one tranche up at a time: the purpose by its Chinese name, `general` as 综合扶贫
// (the reference data's English gloss left out), 文号 and ids as they are.
describe('hopLine', () => {
  const hop = (purpose: string) => ({
    parent: {
      partition: '000000',
      trancheId: 'rc_BUDGET-2024_1',
      documentNumber: '财预〔2024〕1号',
      purpose,
    },
    tracedFen: '57000',
  });
  it('names the purpose general 综合扶贫, without its English gloss', () => {
    const line = hopLine(hop('general'));
    expect(line).toBe('← 000000 财预〔2024〕1号（用途：综合扶贫，资金批次 rc_BUDGET-2024_1）570.00 元');
    expect(chinese(line, ['000000', '财预〔2024〕1号', 'rc_BUDGET-2024_1', '570.00'])).toBeUndefined();
  });
  it('names the other purposes as the reference data does, and an unknown code as it is', () => {
    expect(hopLine(hop('social_assistance'))).toContain('用途：社会保障兜底 (低保, 特困, 残疾人)');
    expect(hopLine(hop('housing'))).toContain('用途：住房安全 (危房改造)');
    expect(hopLine(hop('lottery'))).toContain('用途：lottery');
  });
});
