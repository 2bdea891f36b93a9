import { ledger } from '@fundtrace/events';
import type { TableRow } from '@fundtrace/tabular';
import { describe, expect, it } from 'vitest';
import { type AllocationField, allocationFromRow } from '../src/commands/ledger-files';

/** An allocations file's row (下达): only 资金来源 varies here. */
function row(fundSource: string): TableRow<AllocationField> {
  return {
    rowNumber: 2,
    problems: [],
    values: {
      allocation: 'A-1',
      toPartition: '411325',
      documentNumber: '财农〔2024〕31号',
      fundSource,
      purpose: 'general',
      fiscalYear: '2024',
      title: '中央财政专项扶贫资金',
      amount: '1000.00',
    },
  };
}

const sourceOf = (text: string) => {
  const parsed = allocationFromRow(row(text), 'POOL');
  return parsed.body?.fundSource ?? parsed.error?.message;
};

describe('资金来源 in an allocations file', () => {
  it('reads every source by its full name (as the board and the 旬报 show it), its code, or a short form', () => {
    for (const code of ledger.fundSources) {
      expect(sourceOf(ledger.fundSourceLabel(code))).toBe(code);
      expect(sourceOf(code)).toBe(code);
    }
    expect(sourceOf('中央')).toBe('central');
    expect(sourceOf('县级')).toBe('county');
    expect(sourceOf('信贷')).toBe('credit');
  });

  it('refuses a source it does not know, naming the column', () => {
    expect(sourceOf('彩票公益金')).toMatch(/^资金来源：“彩票公益金”不是资金来源/);
  });
});
