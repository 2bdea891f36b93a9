import { describe, expect, it } from 'vitest';
import { columnsMax, headerSearchRowsMax, normalizeHeader } from '../src/index';
import { readAll, readError, rosterColumns, utf8 } from './helpers';

const csv = (text: string) => ({ bytes: utf8(text), filename: 'roster.csv' });

describe('normalizeHeader', () => {
  it.each([
    ['户编号', '户编号'],
    ['  Household_No ', 'household_no'],
    ['ＮＡＭＥ', 'name'],
    ['金额（元）', '金额(元)'],
    ['姓　　名', '姓名'],
    ['*户编号', '户编号'],
    ['＊户编号', '户编号'],
    ['household no', 'householdno'],
  ])('%j → %j', (text, normal) => {
    expect(normalizeHeader(text)).toBe(normal);
  });
});

describe('readTable header mapping', () => {
  it('maps Chinese headers, English aliases, case, full-width forms, spacing and * marks', async () => {
    const rows = await readAll(
      csv('*HOUSEHOLD_NO,姓　名,金额(元),PAID_ON,序号\n0012,张三,5,2019-01-01,1\n'),
      { columns: rosterColumns },
    );
    expect(rows[0]?.values).toEqual({
      household_no: '0012',
      name: '张三',
      amount: '5',
      paid_on: '2019-01-01',
      note: '',
    });
  });

  it('finds the header below title rows and keeps the spreadsheet row numbers', async () => {
    const text = '内乡县2019年危房改造补助花名册,,\n单位：元,,\n户编号,户主姓名,金额\n1,张三,5\n';
    const rows = await readAll(csv(text), { columns: rosterColumns });
    expect(rows).toEqual([
      { rowNumber: 4, values: expect.objectContaining({ household_no: '1', name: '张三' }), problems: [] },
    ]);
  });

  it(`looks for the header in the first ${headerSearchRowsMax} non-blank rows only`, async () => {
    const titles = Array.from({ length: headerSearchRowsMax }, (_, i) => `标题${i}`).join('\n');
    const error = await readError(csv(`${titles}\n户编号,户主姓名,金额\n1,张三,5\n`), {
      columns: rosterColumns,
    });
    expect(error).toMatchObject({ code: 'header_invalid' });
    expect(error.message).toMatch(/没有找到表头/);
  });

  it('uses the header row given, and says so when it is empty', async () => {
    const text = '户编号,户主姓名,金额\n1,张三,5\n户编号,户主姓名,金额\n2,李四,6\n';
    const rows = await readAll(csv(text), { columns: rosterColumns, headerRow: 3 });
    expect(rows.map((row) => row.rowNumber)).toEqual([4]);
    const error = await readError(csv(text), { columns: rosterColumns, headerRow: 9 });
    expect(error).toMatchObject({ code: 'header_invalid' });
  });

  it('reports every missing required column at once, naming the accepted headers, before any row', async () => {
    const error = await readError(csv('户编号,备注\n1,x\n'), { columns: rosterColumns });
    expect(error).toMatchObject({ name: 'TableError', code: 'header_invalid', rowNumber: 1 });
    expect(error.problems?.map((problem) => [problem.code, problem.field])).toEqual([
      ['missing_required_column', 'name'],
      ['missing_required_column', 'amount'],
    ]);
    expect(error.message).toContain('户主姓名、姓名、name');
    expect((error as unknown as { details: unknown }).details).toEqual({
      problems: error.problems,
      rowNumber: 1,
    });
  });

  it('reports a column given twice under different headers, with both column letters', async () => {
    const error = await readError(csv('户编号,户主姓名,金额,household_no\n1,张三,5,1\n'), {
      columns: rosterColumns,
    });
    expect(error.problems).toMatchObject([
      {
        code: 'duplicate_column',
        field: 'household_no',
        headers: ['户编号', 'household_no'],
        columns: ['A', 'D'],
      },
    ]);
  });

  it('ignores unknown columns by default and refuses them on request', async () => {
    const text = '序号,户编号,户主姓名,金额,联系电话\n1,1,张三,5,138\n';
    expect(await readAll(csv(text), { columns: rosterColumns })).toHaveLength(1);
    const error = await readError(csv(text), { columns: rosterColumns, unknownColumns: 'reject' });
    expect(error.problems).toMatchObject([
      { code: 'unknown_column', headers: ['序号'], columns: ['A'] },
      { code: 'unknown_column', headers: ['联系电话'], columns: ['E'] },
    ]);
  });

  it(`refuses a header wider than ${columnsMax} columns`, async () => {
    const header = ['户编号', '户主姓名', '金额', ...Array.from({ length: columnsMax }, (_, i) => `c${i}`)];
    const error = await readError(csv(`${header.join(',')}\n1,2,3\n`), { columns: rosterColumns });
    expect(error.problems?.map((problem) => problem.code)).toContain('too_many_columns');
  });

  it('reads a file with only a header as no rows', async () => {
    expect(await readAll(csv('户编号,户主姓名,金额\n'), { columns: rosterColumns })).toEqual([]);
  });

  it('refuses an empty file', async () => {
    expect(await readError(csv(''), { columns: rosterColumns })).toMatchObject({ code: 'header_invalid' });
  });
});
