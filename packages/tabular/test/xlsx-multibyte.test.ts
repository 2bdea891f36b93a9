import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { writeXlsx } from '../src/index';
import { asciiArmoredEntry, toCharacterReferences } from '../src/xlsx-armor';
import { zipEntries } from '../src/zip-directory';
import { readAll, scratchDir } from './helpers';
import { xlsx } from './zip';

/**
 * exceljs's streaming reader decodes each inflated chunk on its own, so a Chinese character split
 * across two chunks became U+FFFD (exceljs#2063): about one row in a thousand of a 100,000-row roster.
 * The reader now hands exceljs the sheet and the shared strings with every non-ASCII character as an
 * XML character reference (xlsx-armor.ts). These files are large on purpose: the bug only shows once
 * a part spans many 16 KiB chunks.
 */
const dir = await scratchDir();
const surnames =
  '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕';
const given = '秀英桂兰玉梅凤华建国伟强军红霞明丽芳春生海燕志刚敏静金花德福永平𠮷';
const nameOf = (i: number) =>
  surnames[i % surnames.length]! +
  [...given][(i * 7) % [...given].length]! +
  [...given][(i * 13) % [...given].length]!;
const columns = [
  { field: 'no', header: '户编号' },
  { field: 'name', header: '姓名' },
  { field: 'note', header: '备注' },
] as const;
const specs = [
  { field: 'no', headers: ['户编号'], required: true },
  { field: 'name', headers: ['姓名'], required: true },
  { field: 'note', headers: ['备注'] },
] as const;

describe('XLSX with multi-byte text across stream chunks', () => {
  it('reads a 100,000-row roster of Chinese names exactly (inline strings, as our exports and WPS write)', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({
      no: `H${String(i).padStart(8, '0')}`,
      name: nameOf(i),
      note: i % 3 === 0 ? '建档立卡贫困户（因病致贫）' : '',
    }));
    const path = join(dir, 'names.xlsx');
    await pipeline(writeXlsx(rows, columns), createWriteStream(path));
    const read = await readAll({ path }, { columns: specs });
    expect(read).toHaveLength(rows.length);
    const wrong = read.filter(
      (row, i) =>
        row.values.name !== rows[i]!.name || row.values.note !== rows[i]!.note || row.problems.length > 0,
    );
    expect(wrong.map((row) => row.rowNumber)).toEqual([]);
    expect(read.some((row) => row.values.name.includes('\uFFFD'))).toBe(false);
  }, 300_000);

  it('reads shared strings spread over many chunks exactly (as Excel writes them)', async () => {
    const count = 30_000;
    const strings = Array.from({ length: count }, (_, i) => `${nameOf(i)}${i}`);
    const sst = `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${count + 2}" uniqueCount="${count + 2}"><si><t>户编号</t></si><si><t>姓名</t></si>${strings.map((s) => `<si><t>${s}</t></si>`).join('')}</sst>`;
    const sheetRows = [
      '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
      ...strings.map(
        (_, i) =>
          `<row r="${i + 2}"><c r="A${i + 2}"><v>${i}</v></c><c r="B${i + 2}" t="s"><v>${i + 2}</v></c></row>`,
      ),
    ].join('');
    const bytes = xlsx({
      sheets: [{ name: '花名册', rows: sheetRows }],
      extra: { 'xl/sharedStrings.xml': sst },
    });
    const read = await readAll({ bytes, filename: 'roster.xlsx' }, { columns: specs.slice(0, 2) });
    expect(read.map((row) => row.values.name)).toEqual(strings);
  }, 120_000);

  it('writes every non-ASCII character, astral ones included, as one character reference', () => {
    expect(toCharacterReferences('a张&#x;𠮷b')).toBe('a&#24352;&#x;&#134071;b');
    expect(toCharacterReferences('<t>plain</t>')).toBe('<t>plain</t>');
  });

  it('leaves a part holding CDATA alone: character references mean nothing inside it', async () => {
    const bytes = xlsx({
      sheets: [
        { name: 'S', rows: '<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[张三]]></t></is></c></row>' },
      ],
    });
    const entries = (await zipEntries({ bytes }))!;
    const sheet = entries.find((entry) => entry.name === 'xl/worksheets/sheet1.xml')!;
    expect(await asciiArmoredEntry({ bytes }, sheet)).toBeUndefined();
    const styles = entries.find((entry) => entry.name === 'xl/styles.xml')!;
    const armored = await asciiArmoredEntry({ bytes }, styles);
    expect(armored).toBeInstanceOf(Buffer);
    expect(armored!.includes(Buffer.from('宋体'))).toBe(false);
  });
});
