import { describe, expect, it } from 'vitest';
import { xlsxSharedStringsInflatedBytesMax } from '../src/index';
import { readAll, readError, rosterColumns } from './helpers';
import { text, xlsx } from './zip';

/** A header row for the roster, as row 1. */
const header = `<row r="1">${text('A1', '户编号')}${text('B1', '户主姓名')}${text('C1', '金额')}${text('D1', '发放日期')}</row>`;

describe('readTable on XLSX files written as Excel and WPS write them', () => {
  it('reads dates in the built-in Chinese date formats Excel does not declare (31, 57, 58, 14)', async () => {
    const rows = [31, 57, 58, 14, 27, 36]
      .map(
        (_, i) =>
          `<row r="${i + 2}">${text(`A${i + 2}`, String(i))}${text(`B${i + 2}`, '张三')}<c r="C${i + 2}"><v>1</v></c><c r="D${i + 2}" s="${i + 1}"><v>43588</v></c></row>`,
      )
      .join('');
    const bytes = xlsx({
      sheets: [{ name: 'Sheet1', rows: header + rows }],
      cellXfs: [0, 31, 57, 58, 14, 27, 36],
    });
    const read = await readAll({ bytes, filename: 'wps.xlsx' }, { columns: rosterColumns });
    expect(read.map((row) => row.values.paid_on)).toEqual(Array(6).fill('2019-05-03'));
  });

  it('reads a time in a Chinese built-in time format (32) as a date-time, and plain numbers as numbers', async () => {
    const rows = `<row r="2">${text('A2', '1')}${text('B2', '张三')}<c r="C2" s="2"><v>1234.5599999999999</v></c><c r="D2" s="1"><v>43588.5</v></c></row>`;
    const bytes = xlsx({ sheets: [{ name: 'Sheet1', rows: header + rows }], cellXfs: [0, 32, 2] });
    const [row] = await readAll({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns });
    expect(row?.values).toMatchObject({ amount: '1234.56', paid_on: '2019-05-03T12:00:00' });
  });

  it('reads the first sheet in tab order, not in file order', async () => {
    const data = (name: string) =>
      `${header}<row r="2">${text('A2', '1')}${text('B2', name)}<c r="C2"><v>1</v></c></row>`;
    const bytes = xlsx({
      sheets: [
        { name: '旧数据', rows: data('旧') },
        { name: '新数据', rows: data('新') },
      ],
      tabOrder: [2, 1],
    });
    const rows = await readAll({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns });
    expect(rows[0]?.values.name).toBe('新');
  });

  it('refuses formulas whose saved result is an error, and reads shared formulas by their result', async () => {
    const rows =
      `<row r="2">${text('A2', '1')}${text('B2', 'a')}<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>` +
      `<row r="3">${text('A3', '2')}${text('B3', 'b')}<c r="C3"><f t="shared" ref="C3:C4" si="0">ROW()*2</f><v>6</v></c></row>` +
      `<row r="4">${text('A4', '3')}${text('B4', 'c')}<c r="C4"><f t="shared" si="0"/><v>8</v></c></row>` +
      `<row r="5">${text('A5', '4')}${text('B5', 'd')}<c r="C5" t="str"><f>TEXT(5,"0.00")</f><v>5.00</v></c></row>` +
      `<row r="6">${text('A6', '5')}${text('B6', 'e')}<c r="C6" t="e"><v>#N/A</v></c></row>`;
    const bytes = xlsx({ sheets: [{ name: 'Sheet1', rows: header + rows }] });
    const read = await readAll({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns });
    expect(read.map((row) => [row.values.amount, row.problems.map((problem) => problem.code)])).toEqual([
      ['', ['formula_without_result']],
      ['6', []],
      ['8', []],
      ['5.00', []],
      ['', ['cell_error']],
    ]);
  });

  it('reads the declared custom formats exceljs knows, too', async () => {
    const rows = `<row r="2">${text('A2', '1')}${text('B2', 'a')}<c r="C2" s="2"><v>1</v></c><c r="D2" s="1"><v>43588</v></c></row>`;
    const bytes = xlsx({
      sheets: [{ name: 'Sheet1', rows: header + rows }],
      cellXfs: [0, 176, 177],
      numFmts: { 176: 'yyyy"年"m"月"d"日"', 177: '#,##0.00"元"' },
    });
    const [row] = await readAll({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns });
    expect(row?.values).toMatchObject({ amount: '1', paid_on: '2019-05-03' });
  });

  it.each([
    ['styles.xml is the last zip entry', { stylesLast: true }],
    ['the entries are stored, not deflated', { method: 'store' as const }],
  ])(
    'reads dates right or refuses the file, never hands over a serial number (%s)',
    async (_case, layout) => {
      const rows = `<row r="2">${text('A2', '1')}${text('B2', 'a')}<c r="C2"><v>1</v></c><c r="D2" s="1"><v>43588</v></c></row>`;
      const bytes = xlsx({ sheets: [{ name: 'Sheet1', rows: header + rows }], cellXfs: [0, 14], ...layout });
      // exceljs skips styles.xml in these layouts often but not always: read many times.
      const outcomes = new Set<string>();
      for (let read = 0; read < 20; read += 1) {
        try {
          const [row] = await readAll({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns });
          outcomes.add(row!.values.paid_on);
        } catch (error) {
          expect(error).toMatchObject({ code: 'malformed_xlsx' });
          expect((error as Error).message).toMatch(/styles\.xml.*另存为 \.xlsx/);
          outcomes.add('malformed_xlsx');
        }
      }
      for (const outcome of outcomes) expect(['2019-05-03', 'malformed_xlsx']).toContain(outcome);
    },
  );

  it('reads an Excel-shaped workbook the same way every time, although exceljs sometimes skips its styles', async () => {
    const rows = `<row r="2">${text('A2', '1')}${text('B2', 'a')}<c r="C2"><v>1</v></c><c r="D2" s="1"><v>43588</v></c></row>`;
    const bytes = xlsx({ sheets: [{ name: 'Sheet1', rows: header + rows }], cellXfs: [0, 31] });
    for (let read = 0; read < 40; read += 1) {
      const [row] = await readAll({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns });
      expect(row?.values.paid_on).toBe('2019-05-03');
    }
  });

  it.each([
    ['an ISO-date cell (t="d")', '<c r="D2" t="d"><v>2019-05-03T00:00:00</v></c>', /ISO 日期单元格/],
    [
      'inline rich text',
      '<c r="D2" t="inlineStr"><is><r><t>张</t></r><r><t>三</t></r></is></c>',
      /inline rich text/,
    ],
  ])('refuses a sheet with %s, which exceljs would misread silently', async (_case, cell, reason) => {
    const rows = `<row r="2">${text('A2', '1')}${text('B2', 'a')}<c r="C2"><v>1</v></c>${cell}</row>`;
    const plain = `${header}<row r="2">${text('A2', '1')}${text('B2', 'a')}<c r="C2"><v>1</v></c></row>`;
    const bytes = xlsx({
      sheets: [
        { name: 'R&D 数据', rows: header + rows },
        { name: '其他', rows: plain },
      ],
    });
    const error = await readError({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns });
    expect(error).toMatchObject({ code: 'unsupported_format' });
    expect(error.message).toMatch(reason);
    // Only the sheet read matters: the other sheet reads fine, by name.
    const other = await readAll({ bytes, filename: 'a.xlsx' }, { columns: rosterColumns, sheet: '其他' });
    expect(other).toHaveLength(1);
    const named = await readError(
      { bytes, filename: 'a.xlsx' },
      { columns: rosterColumns, sheet: 'R&D 数据' },
    );
    expect(named).toMatchObject({ code: 'unsupported_format' });
  });

  it('refuses shared strings that inflate past their limit (a zip bomb) before exceljs holds them', async () => {
    const bomb = Buffer.alloc(xlsxSharedStringsInflatedBytesMax + 1, 0x61);
    const rows = `<row r="2">${text('A2', '1')}${text('B2', 'a')}<c r="C2"><v>1</v></c></row>`;
    const bytes = xlsx({
      sheets: [{ name: 'Sheet1', rows: header + rows }],
      extra: { 'xl/sharedStrings.xml': bomb },
    });
    expect(bytes.length).toBeLessThan(2 * 1024 * 1024);
    const error = await readError({ bytes, filename: 'bomb.xlsx' }, { columns: rosterColumns });
    expect(error).toMatchObject({ code: 'file_too_large' });
    expect(error.message).toContain('sharedStrings.xml');
  });
});
