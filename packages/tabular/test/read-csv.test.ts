import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { cellLengthMax, readTable } from '../src/index';
import { isOpen, readAll, readError, rosterColumns, scratchDir, utf8 } from './helpers';

const dir = await scratchDir();
const roster =
  '户编号,户主姓名,金额（元）,发放日期,备注\r\n0012,张三,"1,234.56",2019-05-03,\r\n0013,李四,800,,危房改造\r\n';
const expected = [
  {
    rowNumber: 2,
    values: { household_no: '0012', name: '张三', amount: '1,234.56', paid_on: '2019-05-03', note: '' },
    problems: [],
  },
  {
    rowNumber: 3,
    values: { household_no: '0013', name: '李四', amount: '800', paid_on: '', note: '危房改造' },
    problems: [],
  },
];

describe('readTable on CSV: encodings', () => {
  it.each([
    ['UTF-8', Buffer.from(roster, 'utf8')],
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(roster, 'utf8')])],
    ['GBK', iconv.encode(roster, 'gbk')],
    ['GB18030', iconv.encode(roster, 'gb18030')],
    [
      'UTF-16LE with BOM, tab-separated',
      iconv.encode(roster.replaceAll(',', '\t').replace('"1\t234.56"', '1234.56'), 'utf16le', {
        addBOM: true,
      }),
    ],
  ])('reads %s from a path and from bytes', async (_name, bytes) => {
    const path = join(dir, `roster-${_name.replace(/\W+/g, '-')}.csv`);
    await writeFile(path, bytes);
    const fromPath = await readAll({ path }, { columns: rosterColumns });
    const fromBytes = await readAll({ bytes, filename: 'roster.csv' }, { columns: rosterColumns });
    const want = _name.startsWith('UTF-16')
      ? expected.map((row, i) => (i === 0 ? { ...row, values: { ...row.values, amount: '1234.56' } } : row))
      : expected;
    expect(fromPath).toEqual(want);
    expect(fromBytes).toEqual(want);
  });

  it('keeps GB18030 characters outside GBK (rare names such as 䶮)', async () => {
    const text = '户编号,户主姓名,金额\n1,刘䶮,1\n';
    const rows = await readAll(
      { bytes: iconv.encode(text, 'gb18030'), filename: 'a.csv' },
      { columns: rosterColumns },
    );
    expect(rows[0]?.values.name).toBe('刘䶮');
  });

  it('refuses a file with a UTF-8 byte-order mark that is not UTF-8, from a path and from bytes', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), iconv.encode(roster, 'gbk')]);
    const path = join(dir, 'damaged.csv');
    await writeFile(path, bytes);
    expect(await readError({ path }, { columns: rosterColumns })).toMatchObject({ code: 'invalid_encoding' });
    expect(await readError({ bytes, filename: 'a.csv' }, { columns: rosterColumns })).toMatchObject({
      code: 'invalid_encoding',
    });
  });

  it('reports bytes valid in neither UTF-8 nor GB18030 as a problem of that cell only', async () => {
    // Not valid UTF-8, so read as GB18030; the header text must then be GB18030 too.
    const gb = Buffer.concat([
      iconv.encode('户编号,户主姓名,金额\n1,', 'gb18030'),
      Buffer.from([0x81, 0x20]),
      iconv.encode(',5\n2,王五,6\n', 'gb18030'),
    ]);
    const rows = await readAll({ bytes: gb, filename: 'a.csv' }, { columns: rosterColumns });
    expect(rows[0]?.problems).toMatchObject([{ code: 'invalid_characters', field: 'name', column: 'B' }]);
    expect(rows[0]?.values.name).toBe('');
    expect(rows[1]).toMatchObject({ rowNumber: 3, values: { name: '王五' }, problems: [] });
  });
});

describe('readTable on CSV: rows', () => {
  it('numbers rows as a spreadsheet does: blank rows skipped but counted, a multi-line cell is one row', async () => {
    const text = '户编号,户主姓名,金额\n1,张三,1\n\n,,\n2,"李\n四",2\n3,王五,3';
    const rows = await readAll({ bytes: utf8(text), filename: 'a.csv' }, { columns: rosterColumns });
    expect(rows.map((row) => [row.rowNumber, row.values.name])).toEqual([
      [2, '张三'],
      [5, '李\n四'],
      [6, '王五'],
    ]);
  });

  it('trims cells, tolerates short and long records and stray quotes inside cells', async () => {
    const text = '户编号,户主姓名,金额,备注\n 1 ,张三\n2,李四,2,12" 彩电,extra\n';
    const rows = await readAll({ bytes: utf8(text), filename: 'a.csv' }, { columns: rosterColumns });
    expect(rows[0]?.values).toEqual({ household_no: '1', name: '张三', amount: '', paid_on: '', note: '' });
    expect(rows[1]?.values.note).toBe('12" 彩电');
  });

  it('unwraps ="…" digit strings from bank exports, and nothing else that starts with =', async () => {
    const text = '户编号,户主姓名,金额,备注\n"=""0012""",="6228480402564890018",5,"=1+1"\n';
    const [row] = await readAll({ bytes: utf8(text), filename: 'bank.csv' }, { columns: rosterColumns });
    expect(row?.values).toMatchObject({ household_no: '0012', name: '6228480402564890018', note: '=1+1' });
  });

  it('picks ; or tab as the delimiter from the header line, or takes the one given', async () => {
    const semicolon = await readAll(
      { bytes: utf8('户编号;户主姓名;金额\n1;张三;1,5\n'), filename: 'a.csv' },
      { columns: rosterColumns },
    );
    expect(semicolon[0]?.values.amount).toBe('1,5');
    const tsv = await readAll(
      { bytes: utf8('户编号\t户主姓名\t金额\n1\t张,三\t1\n'), filename: 'a.tsv' },
      { columns: rosterColumns },
    );
    expect(tsv[0]?.values.name).toBe('张,三');
    const forced = await readAll(
      { bytes: utf8('户编号,户主姓名,金额\n1,张三,1\n'), filename: 'a.txt' },
      { columns: rosterColumns, delimiter: ',' },
    );
    expect(forced[0]?.values.name).toBe('张三');
  });

  it('refuses a 10 MB cell in its row and goes on with the next row', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const text = `户编号,户主姓名,金额\n1,${huge},1\n2,李四,2\n`;
    const rows = await readAll({ bytes: utf8(text), filename: 'a.csv' }, { columns: rosterColumns });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ rowNumber: 2, values: { household_no: '1', name: '', amount: '1' } });
    expect(rows[0]?.problems).toHaveLength(1);
    expect(rows[0]?.problems[0]).toMatchObject({ code: 'cell_too_long', field: 'name', column: 'B' });
    expect(rows[0]?.problems[0]?.message).toContain(`${cellLengthMax}`);
    expect(rows[1]).toMatchObject({ rowNumber: 3, values: { name: '李四' }, problems: [] });
  });

  it('accepts a cell of exactly cellLengthMax characters', async () => {
    const text = `户编号,户主姓名,金额\n1,${'x'.repeat(cellLengthMax)},1\n`;
    const [row] = await readAll({ bytes: utf8(text), filename: 'a.csv' }, { columns: rosterColumns });
    expect(row?.problems).toEqual([]);
    expect(row?.values.name).toHaveLength(cellLengthMax);
  });

  it('refuses the whole file when it has more rows than allowed, naming the row', async () => {
    const text = `户编号,户主姓名,金额\n${Array.from({ length: 5 }, (_, i) => `${i},n,1`).join('\n')}\n`;
    const error = await readError(
      { bytes: utf8(text), filename: 'a.csv' },
      { columns: rosterColumns, rowsMax: 5 },
    );
    expect(error).toMatchObject({ code: 'too_many_rows', rowNumber: 6 });
    const fine = await readAll(
      { bytes: utf8(text), filename: 'a.csv' },
      { columns: rosterColumns, rowsMax: 6 },
    );
    expect(fine).toHaveLength(5);
  });

  it('refuses an unclosed quote that swallows the file as a malformed CSV, not a crash', async () => {
    const text = '户编号,户主姓名,金额\n1,"张三,1\n2,李四,2\n';
    const error = await readError({ bytes: utf8(text), filename: 'a.csv' }, { columns: rosterColumns });
    expect(error).toMatchObject({ name: 'TableError', code: 'malformed_csv' });
  });

  it('streams 100,000 rows from a file', async () => {
    const path = join(dir, 'big.csv');
    const lines = ['户编号,户主姓名,金额（元）'];
    for (let i = 1; i <= 100_000; i += 1) lines.push(`${String(i).padStart(8, '0')},户主${i},${i}.5`);
    await writeFile(path, `${lines.join('\r\n')}\r\n`);
    let count = 0;
    let last: unknown;
    for await (const row of readTable({ path }, { columns: rosterColumns })) {
      count += 1;
      last = row;
    }
    expect(count).toBe(100_000);
    expect(last).toMatchObject({
      rowNumber: 100_001,
      values: { household_no: '00100000', amount: '100000.5' },
    });
  });

  it('stops cleanly when the caller stops early', async () => {
    const path = join(dir, 'big.csv');
    const seen: number[] = [];
    for await (const row of readTable({ path }, { columns: rosterColumns })) {
      seen.push(row.rowNumber);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([2, 3, 4]);
    expect(await isOpen(path)).toBe(false);
  });
});

describe('readTable: formats it refuses', () => {
  it.each([
    ['legacy.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), 'unsupported_format'],
    ['renamed.csv', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), 'unsupported_format'],
    ['report.pdf', Buffer.from('%PDF-1.4'), 'unsupported_format'],
    ['fake.xlsx', Buffer.from('户编号,户主姓名\n'), 'malformed_xlsx'],
    ['broken.xlsx', Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 'malformed_xlsx'],
  ])('%s → %s', async (filename, bytes, code) => {
    const error = await readError({ bytes, filename }, { columns: rosterColumns });
    expect(error).toMatchObject({ name: 'TableError', code });
  });

  it('refuses invalid options and column specs as programming errors', async () => {
    await expect(readAll({ bytes: utf8('a'), filename: 'a.csv' }, { columns: [] })).rejects.toThrow(
      TypeError,
    );
    await expect(
      readAll(
        { bytes: utf8('a'), filename: 'a.csv' },
        {
          columns: [
            { field: 'a', headers: ['编号'] },
            { field: 'b', headers: ['编 号'] },
          ],
        },
      ),
    ).rejects.toThrow(/claimed by both a and b/);
    await expect(
      readAll({ bytes: utf8('a'), filename: 'a.csv' }, { columns: rosterColumns, headerRow: 0 }),
    ).rejects.toThrow(TypeError);
  });
});
