import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { formatYuan } from '@fundtrace/money';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { numberToText } from './cells';
import { assertColumnSpecs, type ColumnKind, type ColumnSpec, type OutputColumn } from './columns';
import { escapeCsvCell, xmlSafe } from './escape';
import { cellLengthMax, sheetNameLengthMax } from './limits';
import { withZipEntryTimes } from './zip-times';

/**
 * The one time written into a template (workbook properties and zip entries): a template is the
 * same bytes on every run, so regenerating the committed templates/ changes nothing unless the
 * columns or the example did.
 */
export const templateTimestamp = new Date('2024-01-01T00:00:00Z');

/** What an export row may hold. Money is a bigint of fen in a `money` column, never a number. */
export type CellValue = string | number | bigint | boolean | Date | null | undefined;

export type Rows<F extends string> =
  | Iterable<Readonly<Record<F, CellValue>>>
  | AsyncIterable<Readonly<Record<F, CellValue>>>;

/** Number formats in XLSX exports and templates, per column kind. */
const numberFormats: Record<ColumnKind, string> = {
  text: '@',
  money: '#,##0.00',
  integer: '0',
  date: 'yyyy-mm-dd',
};

/** Integers up to this stay numbers in XLSX; longer ones become text so no digit is lost (Excel keeps 15). */
const exactIntegerMax = 10n ** 15n - 1n;

/**
 * The text of a value in CSV. Money (bigint fen) is "1234.56": two decimals, no
 * grouping, so Excel reads it as a number and `parseYuan` reads it back exactly.
 */
function csvText(value: CellValue, kind: ColumnKind | undefined, field: string): string {
  if (value === null || value === undefined) return '';
  if (kind === 'money') return formatYuan(moneyValue(value, field), { grouping: false });
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberToText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return isoDay(value, field);
}

function moneyValue(value: CellValue, field: string): bigint {
  if (typeof value !== 'bigint') {
    throw new TypeError(`${field}: a money column takes a bigint of fen, got ${typeof value}`);
  }
  return value;
}

function isoDay(value: Date, field: string): string {
  if (!Number.isFinite(value.getTime())) throw new RangeError(`${field}: invalid date`);
  return value.toISOString().slice(0, 10);
}

function checkLength(text: string, field: string): string {
  if (text.length > cellLengthMax) {
    throw new RangeError(
      `${field}: ${text.length} characters do not fit a spreadsheet cell (${cellLengthMax})`,
    );
  }
  return text;
}

async function* rowsOf<F extends string>(rows: Rows<F>): AsyncGenerator<Readonly<Record<F, CellValue>>> {
  yield* rows;
}

export interface WriteCsvOptions {
  /**
   * `utf8` (default) is written with a BOM, which is how Excel recognises UTF-8;
   * `gb18030` for old Excel/WPS installations that open CSV as GBK.
   */
  readonly encoding?: 'utf8' | 'gb18030';
}

/**
 * Streams rows as CSV (CRLF line ends, RFC 4180 quoting) for a spreadsheet to
 * open. Every cell, headers included, passes through `escapeCsvCell`, so no cell
 * starts with = + - @ tab or CR unless it is a plain number. Money columns need
 * bigint fen and are written "1234.56".
 */
export function writeCsv<F extends string>(
  rows: Rows<F>,
  columns: readonly OutputColumn<F>[],
  options: WriteCsvOptions = {},
): Readable {
  assertOutputColumns(columns);
  const encoding = options.encoding ?? 'utf8';
  async function* records(): AsyncGenerator<string[]> {
    yield columns.map((column) => escapeCsvCell(checkLength(column.header, column.field)));
    for await (const row of rowsOf(rows)) {
      yield columns.map((column) =>
        escapeCsvCell(checkLength(csvText(row[column.field], column.kind, column.field), column.field)),
      );
    }
  }
  const csv = stringify({
    bom: encoding === 'utf8',
    record_delimiter: 'windows',
    // A lone CR or LF inside a cell must be quoted too, or a spreadsheet starts a new row there.
    quoted_match: /[\r\n]/,
  });
  // The GB18030 encoder takes strings.
  if (encoding !== 'utf8') csv.setEncoding('utf8');
  const done = (error: Error | null) => {
    if (error) out.destroy(error);
  };
  const out: Readable =
    encoding === 'utf8'
      ? pipeline(Readable.from(records()), csv, done)
      : (pipeline(Readable.from(records()), csv, iconv.encodeStream('gb18030'), done) as unknown as Readable);
  return out;
}

export interface WriteXlsxOptions {
  /** Default "Sheet1"; at most 31 characters, none of : \ / ? * [ ]. */
  readonly sheetName?: string;
}

/**
 * An XLSX cell value. Strings are written as plain strings (shared/inline
 * strings, never formulas: "=1+1" is shown, not computed). Money is a NUMBER with
 * the format #,##0.00, so auditors can sum a column; this is exact because an
 * amount ≤ fenMax has at most 15 significant digits, which a double holds and
 * Excel shows, and `readTable` reads numbers back at 15 digits.
 */
function xlsxValue(value: CellValue, kind: ColumnKind | undefined, field: string): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  if (kind === 'money') return Number(formatYuan(moneyValue(value, field), { grouping: false }));
  if (kind === 'text') return checkLength(xmlSafe(csvText(value, 'text', field)), field);
  if (kind === 'date' && typeof value === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return checkLength(xmlSafe(value), field);
    const date = new Date(`${value}T00:00:00Z`);
    return Number.isFinite(date.getTime()) ? date : xmlSafe(value);
  }
  if (typeof value === 'string') return checkLength(xmlSafe(value), field);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${field}: ${value} is not a finite number`);
    return value;
  }
  if (typeof value === 'bigint') {
    return value <= exactIntegerMax && value >= -exactIntegerMax ? Number(value) : value.toString();
  }
  if (typeof value === 'boolean') return value;
  if (!Number.isFinite(value.getTime())) throw new RangeError(`${field}: invalid date`);
  return value;
}

function assertOutputColumns(columns: readonly OutputColumn[]): void {
  if (columns.length === 0) throw new TypeError('at least one output column is required');
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column.field)) throw new TypeError(`output column ${column.field} is listed twice`);
    seen.add(column.field);
  }
}

function assertSheetName(name: string): void {
  if (name.length === 0 || name.length > sheetNameLengthMax || /[:\\/?*[\]]/.test(name)) {
    throw new TypeError(
      `invalid sheet name "${name}": 1–${sheetNameLengthMax} characters, none of : \\ / ? * [ ]`,
    );
  }
}

function columnWidth(header: string, kind: ColumnKind | undefined): number {
  // CJK characters are about two Latin characters wide.
  const width = [...header].reduce((sum, char) => sum + (char.charCodeAt(0) > 0x2e80 ? 2 : 1), 0);
  return Math.max(width + 2, kind === 'money' ? 16 : kind === 'date' ? 12 : 10);
}

/**
 * Streams rows as an XLSX workbook with one sheet, header frozen and bold.
 * Values follow `xlsxValue`; nothing is ever written as a formula.
 */
export function writeXlsx<F extends string>(
  rows: Rows<F>,
  columns: readonly OutputColumn<F>[],
  options: WriteXlsxOptions = {},
): Readable {
  assertOutputColumns(columns);
  const sheetName = options.sheetName ?? 'Sheet1';
  assertSheetName(sheetName);
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet(sheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns.map((column) => ({
    key: column.field,
    width: columnWidth(column.header, column.kind),
    ...(column.kind ? { style: { numFmt: numberFormats[column.kind] } } : {}),
  }));
  const headerRow = sheet.addRow(columns.map((column) => checkLength(xmlSafe(column.header), column.field)));
  headerRow.font = { bold: true };
  headerRow.commit();
  (async () => {
    for await (const row of rowsOf(rows)) {
      sheet.addRow(columns.map((column) => xlsxValue(row[column.field], column.kind, column.field))).commit();
      // exceljs does not wait for its reader; we do, so a slow download does not buffer the whole file.
      if (out.writableNeedDrain) await once(out, 'drain');
    }
    sheet.commit();
    await workbook.commit();
  })().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}

export interface WriteTemplateOptions {
  /** Name of the data sheet (the first, the one `readTable` reads). Default "导入数据". */
  readonly sheetName?: string;
}

/**
 * Writes an import template: the data sheet has the header row (required
 * columns marked "*", which `readTable` ignores, and in red) and one example row,
 * each column formatted for its kind (text columns as text, so 户编号 "0012" and
 * ID numbers keep every digit when staff type them). A second sheet, 填写说明,
 * lists each column, whether it is required, the other accepted headers and its
 * description. Reading the template back with the same specs gives the example row.
 */
export async function writeTemplate<F extends string>(
  columns: readonly ColumnSpec<F>[],
  exampleRow: Readonly<Partial<Record<F, CellValue>>>,
  path: string,
  options: WriteTemplateOptions = {},
): Promise<void> {
  assertColumnSpecs(columns);
  const sheetName = options.sheetName ?? '导入数据';
  assertSheetName(sheetName);
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(sheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns.map((column) => ({
    key: column.field,
    width: columnWidth(column.headers[0], column.kind),
    style: { numFmt: numberFormats[column.kind ?? 'text'] },
  }));
  const header = sheet.addRow(
    columns.map((column) => (column.required ? `*${column.headers[0]}` : column.headers[0])),
  );
  columns.forEach((column, index) => {
    header.getCell(index + 1).font = {
      bold: true,
      ...(column.required ? { color: { argb: 'FFC00000' } } : {}),
    };
  });
  sheet.addRow(
    columns.map((column) => xlsxValue(exampleRow[column.field], column.kind ?? 'text', column.field)),
  );

  const guide = workbook.addWorksheet('填写说明');
  guide.columns = [
    { header: '列名', width: 16 },
    { header: '是否必填', width: 10 },
    { header: '也可用的列名', width: 30 },
    { header: '说明', width: 60 },
  ];
  guide.getRow(1).font = { bold: true };
  for (const column of columns) {
    guide.addRow([
      column.headers[0],
      column.required ? '必填' : '选填',
      column.headers.slice(1).join('、'),
      xmlSafe(column.description ?? ''),
    ]);
  }
  guide.addRow([]);
  guide.addRow(['带 * 的列必须填写；第 2 行是示例，导入前请删除或替换。']);
  workbook.created = templateTimestamp;
  workbook.modified = templateTimestamp;
  const bytes = await workbook.xlsx.writeBuffer();
  await writeFile(path, withZipEntryTimes(new Uint8Array(bytes as ArrayBuffer), templateTimestamp));
}
