import { entryContent, type ZipEntry, type ZipInput } from './zip-directory';

/**
 * XML a workbook may hold that exceljs's streaming reader misreads without a
 * word: an ISO-date cell (t="d", written by some libraries, never by Excel or
 * WPS) arrives as its year, and inline rich text (<is><r>…) keeps only its last
 * run. Files holding them in the sheet we read are refused rather than misread.
 */
const misreadCells: readonly { readonly pattern: RegExp; readonly what: string }[] = [
  { pattern: /<c\b[^>]*\bt="d"/, what: 'ISO 日期单元格（t="d"）' },
  { pattern: /<is>\s*<r>/, what: '内联富文本（inline rich text）' },
];

/** Longest stretch of XML one match can span; kept from one chunk to the next. */
const overlapChars = 512;

/**
 * Which entry holds a sheet: the named one, or the first in tab order, from
 * xl/workbook.xml and its relationships. Undefined when they cannot be read
 * (the reader reports that itself).
 */
export async function sheetEntry(
  input: ZipInput,
  entries: readonly ZipEntry[],
  sheet: string | undefined,
): Promise<ZipEntry | undefined> {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const workbook = byName.get('xl/workbook.xml');
  const rels = byName.get('xl/_rels/workbook.xml.rels');
  if (!workbook || !rels) return undefined;
  const sheets = [...(await text(input, workbook)).matchAll(/<sheet\b[^>]*>/g)].map((match) => ({
    name: unescapeXml(attribute(match[0], 'name') ?? ''),
    id: attribute(match[0], 'r:id'),
  }));
  const chosen = sheet === undefined ? sheets[0] : sheets.find((candidate) => candidate.name === sheet);
  if (!chosen?.id) return undefined;
  const relation = [...(await text(input, rels)).matchAll(/<Relationship\b[^>]*>/g)].find(
    (match) => attribute(match[0], 'Id') === chosen.id,
  );
  const target = relation ? attribute(relation[0], 'Target') : undefined;
  if (!target) return undefined;
  const path = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  return byName.get(path);
}

/** A part inflates to more than its limit: a zip bomb, or a sheet too large to import. */
export class InflatedTooLarge extends Error {}

/**
 * What in the sheet exceljs would misread, or undefined when nothing is. Throws
 * `InflatedTooLarge` once the inflated sheet passes `bytesMax`.
 */
export async function misreadCellsIn(
  input: ZipInput,
  entry: ZipEntry,
  bytesMax: number,
): Promise<string | undefined> {
  let carried = '';
  let inflated = 0;
  const found = new Set<string>();
  const content = await entryContent(input, entry);
  for await (const chunk of content) {
    inflated += (chunk as Buffer).length;
    if (inflated > bytesMax) {
      content.destroy();
      throw new InflatedTooLarge(`${entry.name} 解压后超过 ${bytesMax} 字节`);
    }
    const window = carried + (chunk as Buffer).toString('latin1');
    for (const { pattern, what } of misreadCells) if (pattern.test(window)) found.add(what);
    carried = window.slice(-overlapChars);
  }
  return found.size === 0 ? undefined : [...found].join(' and ');
}

/** Inflates a part only to count its size; throws `InflatedTooLarge` past `bytesMax`. */
export async function assertInflatedSize(input: ZipInput, entry: ZipEntry, bytesMax: number): Promise<void> {
  let inflated = 0;
  const content = await entryContent(input, entry);
  for await (const chunk of content) {
    inflated += (chunk as Buffer).length;
    if (inflated > bytesMax) {
      content.destroy();
      throw new InflatedTooLarge(`${entry.name} 解压后超过 ${bytesMax} 字节`);
    }
  }
}

async function text(input: ZipInput, entry: ZipEntry): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of await entryContent(input, entry)) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name.replace(':', '\\:')}="([^"]*)"`).exec(tag);
  return match?.[1];
}

function unescapeXml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
