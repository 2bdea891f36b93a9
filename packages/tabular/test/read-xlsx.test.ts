import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { cellLengthMax, readTable } from '../src/index';
import { isOpen, readAll, readError, rosterColumns, scratchDir } from './helpers';

const dir = await scratchDir();
let fileNumber = 0;

/** Writes a workbook with exceljs's ordinary (non-streaming) writer, as another tool would. */
async function workbookFile(build: (workbook: ExcelJS.Workbook) => void): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  build(workbook);
  fileNumber += 1;
  const path = join(dir, `book-${fileNumber}.xlsx`);
  await workbook.xlsx.writeFile(path);
  return path;
}

/** A roster sheet: the header, then `cells` in columns A.. of row 2 onwards. */
function roster(workbook: ExcelJS.Workbook, rows: ExcelJS.CellValue[][], name = 'Sheet1'): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(name);
  sheet.addRow(['户编号', '户主姓名', '金额（元）', '发放日期', '备注']);
  for (const row of rows) sheet.addRow(row);
  return sheet;
}

/** The double right above / below x: what another tool may store for a value that "is" x. */
function nextDouble(x: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigInt64(0, view.getBigInt64(0) + BigInt(direction * (x >= 0 ? 1 : -1)));
  return view.getFloat64(0);
}

describe('readTable on XLSX: values', () => {
  it('reads numbers as the 15 significant digits Excel shows, never float noise', async () => {
    const values = [
      1234.56,
      nextDouble(1234.56, 1),
      nextDouble(1234.56, -1),
      0.1 + 0.2,
      100,
      -5.5,
      1e-7,
      1e21,
      Number('110101199001011234'), // an ID number typed as a number: Excel itself kept 15 digits
    ];
    expect(String(values[1])).not.toBe('1234.56');
    const path = await workbookFile((workbook) => {
      roster(
        workbook,
        values.map((value, i) => [String(i), 'n', value]),
      );
    });
    const rows = await readAll({ path }, { columns: rosterColumns });
    expect(rows.map((row) => row.values.amount)).toEqual([
      '1234.56',
      '1234.56',
      '1234.56',
      '0.3',
      '100',
      '-5.5',
      '0.0000001',
      '1000000000000000000000',
      '110101199001011000',
    ]);
  });

  it('reads dates as ISO dates, whatever their display format, with times when they have one', async () => {
    const may3 = new Date(Date.UTC(2019, 4, 3));
    const path = await workbookFile((workbook) => {
      const sheet = roster(workbook, [
        ['1', 'a', 1, may3],
        ['2', 'b', 1, may3],
        ['3', 'c', 1, 43588],
        ['4', 'd', 1, new Date(Date.UTC(2019, 4, 3, 8, 30))],
        ['5', 'e', 1, { formula: 'D4+1', result: 43589 }],
        ['6', 'f', 1, '2019.5.3'],
      ]);
      sheet.getCell('D3').numFmt = 'yyyy"年"m"月"d"日"';
      sheet.getCell('D4').numFmt = 'yyyy-mm-dd';
      sheet.getCell('D5').numFmt = 'yyyy-mm-dd hh:mm';
      sheet.getCell('D6').numFmt = '[$-804]yyyy/m/d';
    });
    const rows = await readAll({ path }, { columns: rosterColumns });
    expect(rows.map((row) => row.values.paid_on)).toEqual([
      '2019-05-03',
      '2019-05-03',
      '2019-05-03',
      '2019-05-03T08:30:00',
      '2019-05-04',
      '2019.5.3',
    ]);
  });

  it('reads dates of a workbook in the 1904 date system', async () => {
    const path = await workbookFile((workbook) => {
      workbook.properties.date1904 = true;
      roster(workbook, [['1', 'a', 1, new Date(Date.UTC(2020, 0, 31))]]);
    });
    const [row] = await readAll({ path }, { columns: rosterColumns });
    expect(row?.values.paid_on).toBe('2020-01-31');
  });

  it("gives a formula's saved result, never the formula, and reports formulas without one", async () => {
    const path = await workbookFile((workbook) => {
      roster(workbook, [
        ['1', { formula: 'CONCATENATE("张","三")', result: '张三' }, { formula: '100*12.5', result: 1250 }],
        ['2', 'b', { formula: 'C2*2' }],
        ['3', 'c', { formula: '1/0', result: { error: '#DIV/0!' } }],
        ['4', 'd', { sharedFormula: 'C2', result: 7 } as unknown as ExcelJS.CellValue],
        ['5', 'e', { error: '#N/A' }],
      ]);
    });
    const rows = await readAll({ path }, { columns: rosterColumns });
    expect(rows[0]).toMatchObject({ values: { name: '张三', amount: '1250' }, problems: [] });
    expect(rows[1]?.problems).toMatchObject([
      { code: 'formula_without_result', field: 'amount', column: 'C' },
    ]);
    expect(rows[1]?.problems[0]?.message).toMatch(/^单元格 C3：/);
    // The streaming reader cannot tell an error result from a missing one; both are refused.
    expect(rows[2]?.problems).toMatchObject([{ code: 'formula_without_result', field: 'amount' }]);
    expect(rows[3]).toMatchObject({ values: { amount: '7' }, problems: [] });
    expect(rows[4]?.problems).toMatchObject([
      { code: 'cell_error', message: expect.stringContaining('#N/A') },
    ]);
    for (const row of rows) expect(Object.values(row.values).join('')).not.toMatch(/[=*/]|CONCATENATE/);
  });

  it('reads rich text, hyperlinks and booleans as the text a person sees', async () => {
    const path = await workbookFile((workbook) => {
      roster(workbook, [
        [
          '1',
          { richText: [{ text: '张' }, { font: { bold: true }, text: '三' }] },
          1,
          null,
          { text: '公示链接', hyperlink: 'https://example.org/notice/1' },
        ],
        ['2', 'b', 1, null, true],
      ]);
    });
    const rows = await readAll({ path }, { columns: rosterColumns });
    expect(rows[0]?.values).toMatchObject({ name: '张三', note: '公示链接' });
    expect(rows[1]?.values.note).toBe('TRUE');
  });

  it('refuses an over-long cell in its row only', async () => {
    const path = await workbookFile((workbook) => {
      roster(workbook, [
        ['1', 'x'.repeat(10 * 1024 * 1024), 1],
        ['2', '李四', 2],
      ]);
    });
    const rows = await readAll({ path }, { columns: rosterColumns });
    expect(rows[0]?.problems).toMatchObject([{ code: 'cell_too_long', field: 'name', column: 'B' }]);
    expect(rows[0]?.problems[0]?.message).toContain(String(cellLengthMax));
    expect(rows[1]).toMatchObject({ rowNumber: 3, values: { name: '李四' }, problems: [] });
  });

  it('keeps spreadsheet row numbers across empty rows and title rows', async () => {
    const path = await workbookFile((workbook) => {
      const sheet = workbook.addWorksheet('花名册');
      sheet.getCell('A1').value = '内乡县2019年危房改造补助花名册';
      sheet.mergeCells('A1:E1');
      sheet.getRow(3).values = ['户编号', '户主姓名', '金额（元）'];
      sheet.getRow(4).values = ['1', '张三', 1];
      sheet.getRow(7).values = ['2', '李四', 2];
    });
    const rows = await readAll({ path }, { columns: rosterColumns });
    expect(rows.map((row) => [row.rowNumber, row.values.name])).toEqual([
      [4, '张三'],
      [7, '李四'],
    ]);
  });
});

describe('readTable on XLSX: sheets', () => {
  const twoSheets = () =>
    workbookFile((workbook) => {
      roster(workbook, [['1', '第一', 1]], '数据');
      roster(workbook, [['2', '第二', 2]], '汇总');
    });

  it('reads the first sheet by default and a named one on request', async () => {
    const path = await twoSheets();
    expect((await readAll({ path }, { columns: rosterColumns }))[0]?.values.name).toBe('第一');
    expect((await readAll({ path }, { columns: rosterColumns, sheet: '汇总' }))[0]?.values.name).toBe('第二');
  });

  it('says which sheets exist when the named one does not', async () => {
    const path = await twoSheets();
    const error = await readError({ path }, { columns: rosterColumns, sheet: '明细' });
    expect(error).toMatchObject({ code: 'sheet_not_found' });
    expect(error.message).toContain('“数据”、“汇总”');
  });

  it('reads the same rows from bytes as from a path', async () => {
    const path = await twoSheets();
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(path);
    expect(await readAll({ bytes, filename: 'upload.xlsx' }, { columns: rosterColumns })).toEqual(
      await readAll({ path }, { columns: rosterColumns }),
    );
  });

  it('stops cleanly when the caller stops early', async () => {
    const path = await workbookFile((workbook) => {
      roster(
        workbook,
        Array.from({ length: 200 }, (_, i) => [String(i), 'n', i]),
      );
    });
    const seen: number[] = [];
    for await (const row of readTable({ path }, { columns: rosterColumns })) {
      seen.push(row.rowNumber);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([2, 3]);
    expect(await isOpen(path)).toBe(false);
  });
});

describe('readTable on XLSX: damaged files', () => {
  it('refuses a damaged zip on which exceljs never settles as malformed_xlsx instead of hanging', async () => {
    // Five bytes of a small roster flipped (found by test/reliability/fuzz-imports): exceljs's
    // streaming reader waits forever on it, so an import hung and the CLI ended with exit code 13.
    const path = join(import.meta.dirname, 'fixtures', 'damaged-stalls-exceljs.xlsx');
    const error = await readError({ path }, { columns: rosterColumns });
    expect(error).toMatchObject({ name: 'TableError', code: 'malformed_xlsx' });
    expect((error as Error).message).toContain('没有进展');
  });

  it('refuses an upload whose zip directory points past its end as malformed_xlsx, never a RangeError', async () => {
    // Found by test/reliability/fuzz-imports: an entry's local header offset beyond the bytes of
    // an upload made Buffer.from throw inside exceljs's feed, an uncaught exception.
    const { readFile } = await import('node:fs/promises');
    const bytes = Buffer.from(
      await readFile(await workbookFile((workbook) => roster(workbook, [['1', '第一', 1]]))),
    );
    const end = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    let entry = bytes.readUInt32LE(end + 16);
    while (bytes.readUInt32LE(entry) === 0x02014b50) {
      bytes.writeUInt32LE(bytes.length + 1_000, entry + 42);
      entry +=
        46 + bytes.readUInt16LE(entry + 28) + bytes.readUInt16LE(entry + 30) + bytes.readUInt16LE(entry + 32);
    }
    const error = await readError({ bytes, filename: 'upload.xlsx' }, { columns: rosterColumns });
    expect(error).toMatchObject({ name: 'TableError', code: 'malformed_xlsx' });
  });

  it.each([
    ['damaged-deflate.xlsx', 'invalid'],
    ['damaged-local-header.xlsx', 'broken local header'],
  ])(
    'refuses %s before exceljs reads it (its zip reader threw that error where nothing caught it)',
    async (file, says) => {
      const error = await readError(
        { path: join(import.meta.dirname, 'fixtures', file) },
        { columns: rosterColumns },
      );
      expect(error).toMatchObject({ name: 'TableError', code: 'malformed_xlsx' });
      expect((error as Error).message).toContain(says);
    },
  );
});
