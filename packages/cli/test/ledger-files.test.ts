import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readTable, type TableRow } from '@fundtrace/tabular';
import { describe, expect, it } from 'vitest';
import {
  type PlanField,
  planColumns,
  plansFromRows,
  projectColumns,
  projectFromRow,
  rosterColumns,
  rosterFromRows,
  templates,
} from '../src/commands/ledger-files';

const templatesDir = resolve(import.meta.dirname, '..', '..', '..', 'templates');

async function rowsOf<F extends string>(
  path: string,
  columns: readonly import('@fundtrace/tabular').ColumnSpec<F>[],
) {
  const rows: TableRow<F>[] = [];
  for await (const row of readTable({ path }, { columns })) rows.push(row);
  return rows;
}

function csv(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-files-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('ledger import files', () => {
  it('the shipped templates read back as one valid example row each', async () => {
    for (const t of Object.values(templates)) {
      const rows = await rowsOf(join(templatesDir, t.file), t.columns);
      expect(rows, t.file).toHaveLength(1);
      expect(rows[0]!.rowNumber).toBe(2);
    }
    const roster = rosterFromRows(await rowsOf(join(templatesDir, templates.roster.file), rosterColumns));
    expect(roster.errors).toEqual([]);
    expect(roster.body).toMatchObject({
      programmeCode: 'dibao_class1',
      period: '2024-06',
      noticeId: 'N-2024-06',
      rows: [
        { row: 2, householdId: '411325100201-0001', quantity: 2, amountFen: '38000', acceptanceRef: null },
      ],
    });
  });

  it('reads Chinese headers and English aliases, and never sends the name column', async () => {
    const path = csv(
      'r.csv',
      'household_no,姓名,programme,金额(元),期间,公示编号\nH1,张三,dibao_class1,"1,234.50",2024-06,N1\n',
    );
    const { body } = rosterFromRows(await rowsOf(path, rosterColumns));
    expect(body?.rows).toEqual([
      { row: 2, householdId: 'H1', quantity: 1, amountFen: '123450', acceptanceRef: null },
    ]);
    expect(JSON.stringify(body)).not.toContain('张三');
  });

  it('lists every bad roster row with its number and reason', async () => {
    const path = csv(
      'bad.csv',
      '户编号,项目代码,金额(元),期间,数量\nH1,dibao_class1,190,2024-06,1\nH2,dibao_class1,12.345,2024-06,1\nH3,dibao_class2,190,2024-06,x\nH4,dibao_class1,-5,2024-06,1\n',
    );
    const { body, errors } = rosterFromRows(await rowsOf(path, rosterColumns));
    expect(body).toBeUndefined();
    expect(errors.map((e) => e.row)).toEqual([3, 4, 5]);
    expect(errors[0]!.message).toContain('金额(元)');
    expect(errors[1]!.message).toMatch(/数量：.*不是整数/);
    expect(errors[1]!.message).toContain('项目代码');
  });

  it('refuses a plan whose stated total differs from its lines, showing the difference on each row', async () => {
    const path = csv(
      'p.csv',
      '方案编号,方案名称,年度,文号,方案总额(元),行编号,类别,行名称,金额(元)\n' +
        'P1,方案,2024,内政1号,1000,L1,infrastructure,道路,600\n' +
        'P1,方案,2024,内政1号,1000,L2,industry,产业,399.99\n' +
        'P2,方案二,2024,内政2号,,L1,industry,产业,50\n',
    );
    const { bodies, errors } = plansFromRows(await rowsOf<PlanField>(path, planColumns));
    expect(errors.map((e) => e.row)).toEqual([2, 3]);
    expect(errors[0]!.message).toContain('相差 0.01 元');
    expect(bodies.find((b) => b.planId === 'P2')).toMatchObject({
      totalFen: '5000',
      lines: [{ lineId: 'L1' }],
    });
  });

  it('reads 报账制 as 是/否 and refuses anything else', async () => {
    const path = csv(
      'pj.csv',
      '项目编号,项目名称,方案编号,行编号,村代码,预算(元),项目账户,实施单位账户,报账制\n' +
        'PJ1,道路,P1,L1,411325100201,1000,PRJ1,U1,是\nPJ2,桥,P1,L1,411325100201,1000,PRJ2,U1,maybe\n',
    );
    const rows = await rowsOf(path, projectColumns);
    expect(projectFromRow(rows[0]!)).toMatchObject({ body: { reimbursement: true, budgetFen: '100000' } });
    expect(projectFromRow(rows[1]!)).toMatchObject({ error: { row: 3 } });
  });
});
