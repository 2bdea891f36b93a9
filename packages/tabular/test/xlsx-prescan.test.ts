import { describe, expect, it } from 'vitest';
import { assertInflatedSize, InflatedTooLarge, misreadCellsIn } from '../src/xlsx-prescan';
import { zipEntries } from '../src/zip-directory';
import { zip } from './zip';

describe('xlsx prescan', () => {
  const sheet = `<sheetData>${'<row r="1"><c r="A1"><v>1</v></c></row>'.repeat(50_000)}</sheetData>`;
  const bytes = zip({ 'xl/worksheets/sheet1.xml': sheet });

  it('counts inflated bytes, not declared ones, and stops past the limit', async () => {
    const [entry] = (await zipEntries({ bytes }))!;
    await expect(assertInflatedSize({ bytes }, entry!, sheet.length)).resolves.toBeUndefined();
    await expect(assertInflatedSize({ bytes }, entry!, sheet.length - 1)).rejects.toThrow(InflatedTooLarge);
    await expect(misreadCellsIn({ bytes }, entry!, sheet.length - 1)).rejects.toThrow(InflatedTooLarge);
  });

  it('finds a misread cell even when it straddles two inflated chunks', async () => {
    for (const padding of [0, 1, 7, 16_380, 16_383, 65_530]) {
      const xml = `${' '.repeat(padding)}<c r="B2" t="d"><v>2019-05-03</v></c>`;
      const file = zip({ 'xl/worksheets/sheet1.xml': `${'<row/>'.repeat(20_000)}${xml}` });
      const [entry] = (await zipEntries({ bytes: file }))!;
      expect(await misreadCellsIn({ bytes: file }, entry!, 10 * 1024 * 1024)).toMatch(/ISO 日期单元格/);
    }
    const [entry] = (await zipEntries({ bytes }))!;
    expect(await misreadCellsIn({ bytes }, entry!, 10 * 1024 * 1024)).toBeUndefined();
  });
});
