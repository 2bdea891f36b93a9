import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { z } from 'zod';
import type { RawCell, RawRow } from './cells';
import { assertColumnSpecs, type ColumnSpec, normalizeHeader } from './columns';
import {
  bytesSource,
  type CsvDelimiter,
  csvRows,
  detectEncoding,
  detectEncodingOfBytes,
  fileSource,
} from './csv-source';
import { type CellProblem, columnLetter, type HeaderProblem, TableError } from './errors';
import { cellLengthMax, columnsMax, headerSearchRowsMax, rowsMax, xlsxBytesMax } from './limits';
import { xlsxRows } from './xlsx-source';

export type TableInput =
  | { readonly path: string }
  | { readonly bytes: Uint8Array; readonly filename: string };

export interface ReadTableOptions<F extends string> {
  readonly columns: readonly ColumnSpec<F>[];
  /** XLSX: the sheet to read; default the first sheet in tab order. */
  readonly sheet?: string;
  /** The header's row number; default: the first of the first `headerSearchRowsMax` rows holding every required column. */
  readonly headerRow?: number;
  /** Columns no spec names: ignored (default; rosters carry 序号, 备注 …) or refused. */
  readonly unknownColumns?: 'ignore' | 'reject';
  /** CSV: the delimiter; default picked from the first line. */
  readonly delimiter?: CsvDelimiter | 'auto';
  /** Refuse files with more rows than this (at most, and by default, `rowsMax`). */
  readonly rowsMax?: number;
}

export interface TableRow<F extends string> {
  /** The spreadsheet's own row number: header row = 1 (unless titles sit above it), first data row = 2. */
  readonly rowNumber: number;
  /** Every field of the spec; '' for an empty cell, an absent optional column or a cell with a problem. Trimmed. */
  readonly values: Readonly<Record<F, string>>;
  /** Cells that could not be read; a row with problems must be reported, not imported. Empty when fine. */
  readonly problems: readonly CellProblem[];
}

const optionsSchema = z.object({
  sheet: z.string().min(1).optional(),
  headerRow: z.number().int().min(1).optional(),
  unknownColumns: z.enum(['ignore', 'reject']).optional(),
  delimiter: z.enum([',', '\t', ';', 'auto']).optional(),
  rowsMax: z.number().int().min(1).max(rowsMax).optional(),
});

/**
 * Reads a CSV (UTF-8 with or without BOM, GBK/GB18030, UTF-16) or XLSX file as
 * rows of canonical fields, streaming, so 100,000+ rows never sit in memory.
 *
 * Before the first row is yielded the header is found and checked: a missing
 * required column, a column given twice (户编号 and household_no), an unknown
 * column (with `unknownColumns: 'reject'`) or too many columns throw one
 * `TableError` listing every problem. A file-level failure later (too many rows,
 * a broken CSV quote, a corrupt zip) also throws: imports are all-or-nothing, so
 * importers stage rows and commit only after the last one.
 *
 * Blank rows are skipped, row numbers are kept as the spreadsheet shows them.
 */
export async function* readTable<F extends string>(
  input: TableInput,
  options: ReadTableOptions<F>,
): AsyncGenerator<TableRow<F>> {
  assertColumnSpecs(options.columns);
  const checked = optionsSchema.safeParse(options);
  if (!checked.success) throw new TypeError(`invalid readTable options: ${checked.error.issues[0]?.message}`);
  const limit = options.rowsMax ?? rowsMax;

  const rows = await openRows(input, options);
  try {
    yield* dataRows(rows, await findHeader(rows, options), options, limit);
  } finally {
    // Also when the caller stops early: close the file.
    await rows.return(undefined);
  }
}

async function* dataRows<F extends string>(
  rows: AsyncGenerator<RawRow>,
  header: Header,
  options: ReadTableOptions<F>,
  limit: number,
): AsyncGenerator<TableRow<F>> {
  const fields = options.columns.map((column) => column.field);
  for (let next = await rows.next(); !next.done; next = await rows.next()) {
    const raw = next.value;
    if (raw.rowNumber > limit) {
      throw new TableError('too_many_rows', `文件超过 ${limit} 行`, [], raw.rowNumber);
    }
    const values = Object.fromEntries(fields.map((field) => [field, ''])) as Record<F, string>;
    const problems: CellProblem[] = [];
    let blank = true;
    for (const [index, field] of header.fieldsByIndex as ReadonlyMap<number, F>) {
      const cell = raw.cells[index];
      if (cell === undefined) continue;
      const column = columnLetter(index);
      if (typeof cell !== 'string') {
        problems.push({
          code: cell.problem,
          field,
          column,
          message: `单元格 ${column}${raw.rowNumber}：${cell.message}`,
        });
        continue;
      }
      if (cell.length > cellLengthMax) {
        problems.push({
          code: 'cell_too_long',
          field,
          column,
          message: `单元格 ${column}${raw.rowNumber}：有 ${cell.length} 个字符，超过电子表格单元格的上限（${cellLengthMax}）`,
        });
        continue;
      }
      const text = cell.trim();
      values[field] = text;
      if (text !== '') blank = false;
    }
    if (blank && problems.length === 0) continue;
    yield { rowNumber: raw.rowNumber, values, problems };
  }
}

async function openRows(
  input: TableInput,
  options: ReadTableOptions<string>,
): Promise<AsyncGenerator<RawRow>> {
  const name = 'path' in input ? input.path : input.filename;
  const head = 'path' in input ? await readHead(input.path) : input.bytes.subarray(0, 8);
  const extension = extname(name).toLowerCase();
  const isZip = head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  const isOle = head[0] === 0xd0 && head[1] === 0xcf && head[2] === 0x11 && head[3] === 0xe0;
  if (isOle || extension === '.xls') {
    throw new TableError('unsupported_format', `${name}：不读取 Excel 97-2003（.xls）文件，请另存为 .xlsx`);
  }
  if (isZip || extension === '.xlsx' || extension === '.xlsm') {
    if (!isZip)
      throw new TableError('malformed_xlsx', `${name} 的扩展名是 .xlsx，内容却不是 XLSX（zip）文件`);
    const size = 'path' in input ? (await stat(input.path)).size : input.bytes.byteLength;
    if (size > xlsxBytesMax) {
      throw new TableError('file_too_large', `${name} 有 ${size} 字节，超过上限 ${xlsxBytesMax} 字节`);
    }
    return xlsxRows('path' in input ? { path: input.path } : { bytes: input.bytes }, options.sheet);
  }
  if (extension === '.csv' || extension === '.txt' || extension === '.tsv') {
    const source = 'path' in input ? fileSource(input.path) : bytesSource(input.bytes);
    const encoding =
      'path' in input ? await detectEncoding(head, source) : detectEncodingOfBytes(input.bytes);
    const delimiter = options.delimiter ?? (extension === '.tsv' ? '\t' : 'auto');
    return csvRows(source, encoding, delimiter);
  }
  throw new TableError('unsupported_format', `${name}：请使用 .csv 或 .xlsx 文件`);
}

async function readHead(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(8);
    const { bytesRead } = await file.read(buffer, 0, 8, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

interface Header {
  readonly rowNumber: number;
  readonly fieldsByIndex: ReadonlyMap<number, string>;
}

interface HeaderMatch extends Header {
  readonly problems: HeaderProblem[];
  readonly matched: number;
  readonly missingRequired: number;
}

/** Maps one row's cells to fields, listing every problem. */
function matchHeader(raw: RawRow, options: ReadTableOptions<string>): HeaderMatch {
  const lookup = new Map<string, string>();
  for (const column of options.columns) {
    for (const header of column.headers) lookup.set(normalizeHeader(header), column.field);
  }
  const problems: HeaderProblem[] = [];
  if (raw.cells.length > columnsMax) {
    problems.push({
      code: 'too_many_columns',
      message: `表头有 ${raw.cells.length} 列，超过上限 ${columnsMax} 列`,
    });
  }
  const byField = new Map<string, number[]>();
  const texts = new Map<number, string>();
  for (const [index, cell] of raw.cells.slice(0, columnsMax).entries()) {
    const text = typeof cell === 'string' ? cell.trim() : '';
    if (text === '') continue;
    texts.set(index, text);
    const field = lookup.get(normalizeHeader(text));
    if (field === undefined) {
      if (options.unknownColumns === 'reject') {
        problems.push({
          code: 'unknown_column',
          headers: [text],
          columns: [columnLetter(index)],
          message: `${columnLetter(index)} 列“${text}”不是可识别的列名`,
        });
      }
      continue;
    }
    byField.set(field, [...(byField.get(field) ?? []), index]);
  }
  const fieldsByIndex = new Map<number, string>();
  let missingRequired = 0;
  for (const column of options.columns) {
    const indexes = byField.get(column.field) ?? [];
    if (indexes.length > 1) {
      const letters = indexes.map(columnLetter);
      problems.push({
        code: 'duplicate_column',
        field: column.field,
        headers: indexes.map((index) => texts.get(index)!),
        columns: letters,
        message: `${column.headers[0]}（${column.field}）出现在 ${indexes.length} 列：${indexes
          .map((index) => `${columnLetter(index)} 列“${texts.get(index)}”`)
          .join('、')}`,
      });
    }
    if (indexes.length === 0 && column.required) {
      missingRequired += 1;
      problems.push({
        code: 'missing_required_column',
        field: column.field,
        headers: column.headers,
        message: `缺少必填列 ${column.headers[0]}（${column.field}）；可用的列名：${column.headers.join('、')}`,
      });
    }
    if (indexes.length === 1) fieldsByIndex.set(indexes[0]!, column.field);
  }
  return { rowNumber: raw.rowNumber, fieldsByIndex, problems, matched: byField.size, missingRequired };
}

/**
 * Consumes rows up to and including the header. With `headerRow` the header is
 * that row; otherwise the first of the first `headerSearchRowsMax` non-blank rows
 * that holds every required column (and at least one known column).
 */
async function findHeader(rows: AsyncGenerator<RawRow>, options: ReadTableOptions<string>): Promise<Header> {
  let best: HeaderMatch | undefined;
  let searched = 0;
  for (let next = await rows.next(); !next.done; next = await rows.next()) {
    const raw = next.value;
    if (options.headerRow !== undefined) {
      if (raw.rowNumber < options.headerRow) continue;
      if (raw.rowNumber > options.headerRow) break;
      return accept(matchHeader(raw, options), rows);
    }
    if (raw.cells.every((cell) => cell === undefined || (typeof cell === 'string' && cell.trim() === '')))
      continue;
    const match = matchHeader(raw, options);
    if (match.missingRequired === 0 && match.matched > 0) return accept(match, rows);
    if (best === undefined || match.matched > best.matched) best = match;
    searched += 1;
    if (searched >= headerSearchRowsMax) break;
  }
  await rows.return(undefined);
  if (options.headerRow !== undefined) {
    throw new TableError('header_invalid', `第 ${options.headerRow} 行为空或不存在，表头应在这一行`);
  }
  if (best === undefined || best.matched === 0) {
    const expected = options.columns.map((column) => column.headers[0]).join('、');
    throw new TableError(
      'header_invalid',
      `前 ${headerSearchRowsMax} 行中没有找到表头；表头应有 ${expected} 等列`,
      best?.problems ?? [],
    );
  }
  throw headerError(best);
}

async function accept(match: HeaderMatch, rows: AsyncGenerator<RawRow>): Promise<Header> {
  if (match.problems.length > 0) {
    await rows.return(undefined);
    throw headerError(match);
  }
  return match;
}

function headerError(match: HeaderMatch): TableError {
  return new TableError(
    'header_invalid',
    `表头（第 ${match.rowNumber} 行）：${match.problems.map((problem) => problem.message).join('；')}`,
    match.problems,
    match.rowNumber,
  );
}

export type { RawCell };
