import { resolve } from 'node:path';
import { readTable, type TableRow } from '@fundtrace/tabular';
import { describe, expect, it } from 'vitest';
import { type SettlementField, settlementsFromRows, templates } from '../src/commands/ledger-files';

/** The bank's result file (回盘) as the CLI reads it: the committed template reads back as one return. */
const template = resolve(import.meta.dirname, '..', '..', '..', 'templates', templates.settlements.file);

describe('settlements template (回盘)', () => {
  it('reads back as the return of roster row 2, with 户编号 and 金额 for the ledger to check', async () => {
    const rows: TableRow<SettlementField>[] = [];
    for await (const row of readTable({ path: template }, { columns: templates.settlements.columns }))
      rows.push(row);
    const { rows: results, errors } = settlementsFromRows(rows, undefined);
    expect(errors).toEqual([]);
    // One row of the ledger's bank-results command; 户编号 and 金额 go along for the ledger to check.
    expect(results).toEqual([
      {
        row: 2,
        paymentId: 'RS-dibao-class1-2024-06-1a2b3c4d-r2',
        householdId: '411325100201-0001',
        amountFen: '38000',
        result: 'returned',
        reason: '账户已销户',
        returnedOn: '2024-06-20',
      },
    ]);
  });

  it('a payment named twice, or by neither 支付编号 nor roster row, is refused by row', () => {
    const row = (
      rowNumber: number,
      values: Partial<Record<SettlementField, string>>,
    ): TableRow<SettlementField> => ({
      rowNumber,
      problems: [],
      values: {
        payment: '',
        roster: '',
        rosterRow: '',
        household: '',
        amount: '',
        result: '成功',
        reason: '',
        bankReference: 'B1',
        date: '2024-06-20',
        ...values,
      },
    });
    const { rows: results, errors } = settlementsFromRows(
      [
        row(2, { rosterRow: '2' }),
        row(3, { payment: 'RS-1-r2' }),
        row(4, {}),
        row(5, { rosterRow: '5', date: '20/06/2024' }),
      ],
      'RS-1',
    );
    expect(results.map((r) => r.paymentId)).toEqual(['RS-1-r2']);
    expect(errors.map((e) => e.row)).toEqual([3, 4, 5]);
    expect(errors[0]!.message).toContain('已在第 2 行');
    expect(errors[1]!.message).toContain('支付编号');
    expect(errors[2]!.message).toContain('“20/06/2024”不是日期');
  });
});
