import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import {
  dateToText,
  excelSerialToDate,
  isDateFormat,
  numberToText,
  type RawCell,
  type RawRow,
} from './cells';
import { TableError } from './errors';
import { xlsxSharedStringsInflatedBytesMax, xlsxSheetInflatedBytesMax } from './limits';
import { asciiArmoredEntry } from './xlsx-armor';
import { assertInflatedSize, InflatedTooLarge, misreadCellsIn, sheetEntry } from './xlsx-prescan';
import {
  DamagedZipEntry,
  rawEntry,
  storedEntry,
  type ZipEntry,
  type ZipInput,
  zipEntries,
} from './zip-directory';

/** The parts of exceljs's streaming reader we use that its typings do not declare. */
interface ReaderInternals {
  model?: { sheets?: { name: string }[] };
  styles?: unknown;
  sharedStrings?: unknown;
  properties?: { model?: { date1904?: boolean } };
}

/**
 * exceljs's streaming reader now and then skips a zip entry without a word when
 * it defers sheets to temporary files (we measured about 1 read in 20 losing
 * styles.xml on small files); `orderedForExceljs` avoids that path whenever we
 * can locate the sheet, and this check and retry remain for when we cannot. In some
 * zip layouts (a stored entry, styles.xml as the last entry, styles after the
 * sheet) it always does. A skipped styles.xml would turn every date into a
 * serial number, a skipped sharedStrings.xml every text cell into an error.
 * Every read therefore checks that the parts the zip lists were parsed before
 * the first row is handed on, and starts again if not. Attempts are independent,
 * so five leave about one read in three million to fail (loudly, with
 * `malformed_xlsx`); a layout exceljs can never read fails all five.
 */
export const xlsxReadAttemptsMax = 5;

/** A part the zip lists was not parsed by the time the sheet's rows start. */
class PartSkipped extends Error {}

/**
 * Longest exceljs may take to produce the next sheet or row. On some damaged zips (a few bytes
 * flipped near the end) its streaming reader waits on a promise that never settles: without this
 * an import would hang, and a CLI run would end silently with Node's exit code 13. A healthy read
 * takes milliseconds per row even on a loaded machine.
 */
export const xlsxStallMs = 10_000;

/** The next item of an exceljs iterator, or malformed_xlsx when it makes no progress. */
async function nextOf<T>(iterator: AsyncIterator<T>): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TableError(
            'malformed_xlsx',
            `无法读取的 XLSX 文件：读取 ${xlsxStallMs / 1000} 秒没有进展（zip 已损坏）；请用 Excel 或 WPS 重新保存`,
          ),
        ),
      xlsxStallMs,
    );
  });
  try {
    return await Promise.race([iterator.next(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Rows of one sheet of an XLSX, streamed: the named sheet, or the first in tab
 * order. Cells become text by `cellText`; other sheets are skipped unread.
 */
export async function* xlsxRows(
  input: { path: string } | { bytes: Uint8Array },
  sheet?: string,
): AsyncGenerator<RawRow> {
  const entries = (await zipEntries(input)) ?? [];
  const listed = new Set(entries.map((entry) => entry.name));
  const target = await prescan(input, entries, sheet);
  for (let attempt = 1; ; attempt += 1) {
    const rows = readSheet(input, sheet, listed, target && (() => orderedForExceljs(input, entries, target)));
    let yielded = false;
    try {
      for (let next = await rows.next(); !next.done; next = await rows.next()) {
        yielded = true;
        yield next.value;
      }
      return;
    } catch (error) {
      if (!(error instanceof PartSkipped)) throw error;
      // Nothing was handed on yet, so starting again is invisible to the caller.
      if (!yielded && attempt < xlsxReadAttemptsMax) continue;
      throw new TableError('malformed_xlsx', error.message);
    } finally {
      await rows.return(undefined);
    }
  }
}

async function* readSheet(
  input: { path: string } | { bytes: Uint8Array },
  sheet: string | undefined,
  listed: ReadonlySet<string>,
  ordered: (() => AsyncGenerator<Buffer>) | undefined,
): AsyncGenerator<RawRow> {
  const stream = ordered
    ? Readable.from(ordered())
    : 'path' in input
      ? createReadStream(input.path)
      : Readable.from([Buffer.from(input.bytes)]);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache',
    entries: 'ignore',
  });
  const internals = reader as unknown as ReaderInternals;
  // The reader starts with default styles and replaces them when it parses styles.xml.
  const defaultStyles = internals.styles;
  const names: string[] = [];
  let found = false;
  try {
    const worksheets = reader[Symbol.asyncIterator]();
    for (let next = await nextOf(worksheets); !next.done; next = await nextOf(worksheets)) {
      const worksheet = next.value;
      const name = (worksheet as unknown as { name?: string }).name ?? '';
      names.push(name);
      const target = sheet ?? internals.model?.sheets?.[0]?.name ?? names[0];
      const rows = worksheet[Symbol.asyncIterator]();
      if (name !== target) {
        // Another sheet: drain it so the zip stream moves on to the next entry.
        while (!(await nextOf(rows)).done) {}
        continue;
      }
      found = true;
      if (listed.has('xl/styles.xml') && internals.styles === defaultStyles) {
        throw new PartSkipped(unreadablePart('styles.xml'));
      }
      if (listed.has('xl/sharedStrings.xml') && internals.sharedStrings === undefined) {
        throw new PartSkipped(unreadablePart('sharedStrings.xml'));
      }
      recogniseCjkDateFormats(reader);
      const date1904 = internals.properties?.model?.date1904 === true;
      for (let item = await nextOf(rows); !item.done; item = await nextOf(rows)) {
        const row = item.value;
        const cells: RawCell[] = [];
        row.eachCell({ includeEmpty: false }, (cell, column) => {
          cells[column - 1] = cellText(cell.value, cell.numFmt, date1904);
        });
        yield { rowNumber: row.number, cells };
      }
      break;
    }
  } catch (error) {
    if (error instanceof TableError || error instanceof PartSkipped) throw error;
    throw new TableError('malformed_xlsx', `无法读取的 XLSX 文件：${(error as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (!found) {
    const sheetsListed = ordered
      ? 1
      : [...listed].filter((entry) => /^xl\/worksheets\/sheet\d+\.xml$/.test(entry)).length;
    if (names.length < sheetsListed) throw new PartSkipped(unreadablePart('worksheets'));
    throw new TableError(
      'sheet_not_found',
      sheet === undefined
        ? '工作簿中没有工作表'
        : `没有名为“${sheet}”的工作表；工作簿中的工作表：${names.map((n) => `“${n}”`).join('、') || '无'}`,
    );
  }
}

/**
 * Looks at the parts that matter before exceljs does: the sheet we will read
 * (size, and cells exceljs misreads) and the shared strings (size). A part we
 * cannot locate or inflate is left to exceljs, which reports the broken file.
 */
async function prescan(
  input: ZipInput,
  entries: readonly ZipEntry[],
  sheet: string | undefined,
): Promise<ZipEntry | undefined> {
  const guard = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      if (error instanceof InflatedTooLarge) throw new TableError('file_too_large', error.message);
      // Deflate data that does not inflate is a damaged file. exceljs must not see it: its zip
      // reader leaves such an error unhandled (the process dies) or waits forever.
      if (isZlibDataError(error) || error instanceof DamagedZipEntry)
        throw new TableError('malformed_xlsx', `无法读取的 XLSX 文件：${(error as Error).message}`);
      return undefined;
    }
  };
  const sharedStrings = entries.find((entry) => entry.name === 'xl/sharedStrings.xml');
  if (sharedStrings) {
    await guard(() => assertInflatedSize(input, sharedStrings, xlsxSharedStringsInflatedBytesMax));
  }
  const target = await guard(async () => (await sheetEntry(input, entries, sheet))?.name);
  const entry = entries.find((candidate) => candidate.name === target);
  if (!entry) return undefined;
  const misread = await guard(() => misreadCellsIn(input, entry, xlsxSheetInflatedBytesMax));
  // The other parts exceljs is handed before the sheet: small, and each must inflate.
  for (const name of partsBeforeSheets) {
    const part = entries.find((candidate) => candidate.name === name);
    if (part && name !== 'xl/sharedStrings.xml')
      await guard(() => assertInflatedSize(input, part, xlsxSheetInflatedBytesMax));
  }
  if (misread) {
    throw new TableError(
      'unsupported_format',
      `工作表中含有 ${misread}，无法如实读取；请用 Excel 或 WPS 打开后另存为 .xlsx`,
    );
  }
  return entry;
}

/** zlib's own errors for deflate data that cannot be inflated (Z_DATA_ERROR, Z_BUF_ERROR …). */
function isZlibDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^Z_(DATA|BUF|STREAM|NEED_DICT)_ERROR$/.test(code);
}

/** The parts exceljs must have parsed before a sheet, in the order it needs them. */
const partsBeforeSheets = [
  '[Content_Types].xml',
  '_rels/.rels',
  'xl/workbook.xml',
  'xl/_rels/workbook.xml.rels',
  'xl/styles.xml',
  'xl/sharedStrings.xml',
];

/**
 * The zip as exceljs reads it best: workbook, relationships, styles and shared
 * strings first, then only the sheet we read. exceljs parses a sheet at once
 * when it already has the shared strings and relationships (otherwise it copies
 * every sheet to a temporary file and parses them at the end, which is where it
 * races and loses parts), and never sees the other sheets. A workbook without
 * shared strings (all numbers, or inline strings as our own exports) gets an
 * empty table so the same holds.
 */
async function* orderedForExceljs(
  input: ZipInput,
  entries: readonly ZipEntry[],
  sheet: ZipEntry,
): AsyncGenerator<Buffer> {
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  for (const name of partsBeforeSheets) {
    const entry = byName.get(name);
    if (entry === undefined) {
      if (name === 'xl/sharedStrings.xml') yield storedEntry(name, emptySharedStrings);
    } else if (name === 'xl/sharedStrings.xml') {
      yield (await asciiArmoredEntry(input, entry)) ?? (await rawEntry(input, entry));
    } else yield await rawEntry(input, entry);
  }
  // The cell text lives in these two parts; see xlsx-armor for why they are rewritten.
  yield (await asciiArmoredEntry(input, sheet)) ?? (await rawEntry(input, sheet));
}

const emptySharedStrings =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>';

function unreadablePart(part: string): string {
  return `工作簿的 ${part} 试了 ${xlsxReadAttemptsMax} 次仍无法在数据行之前读出（zip 结构少见）；请用 Excel 或 WPS 打开后另存为 .xlsx`;
}

/**
 * Built-in number formats 27–36 and 50–58 are, in Chinese (and the other CJK)
 * Excel, dates and times: 31 is yyyy"年"m"月"d"日", 57 yyyy"年"m"月", 58 m"月"d"日",
 * 32–35 and 55–56 times. Excel does not declare built-in formats in styles.xml,
 * and exceljs knows only the en-US built-ins, so without this a date typed in a
 * Chinese Excel would arrive as its serial number ("43588").
 */
const cjkBuiltInDateFormatIds = new Set([
  27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58,
]);

/** The parts of exceljs's style manager we touch. */
interface StyleInternals {
  model?: { styles?: ({ numFmtId?: number } | undefined)[] };
  index?: { numFmt?: Record<number, string | undefined> };
  getStyleModel?: (id: number) => { numFmt?: string } | null;
}

/**
 * Gives the style models of cells with a CJK built-in date format a date format,
 * so this reader (and only this reader: the models belong to it) converts their
 * values to dates. Runs once the styles are parsed, before the sheet's rows are.
 */
function recogniseCjkDateFormats(reader: unknown): void {
  const styles = (reader as { styles?: StyleInternals }).styles;
  const xfs = styles?.model?.styles;
  if (!styles?.getStyleModel || !xfs) return;
  for (const [id, xf] of xfs.entries()) {
    const formatId = xf?.numFmtId;
    if (formatId === undefined || !cjkBuiltInDateFormatIds.has(Number(formatId))) continue;
    if (styles.index?.numFmt?.[Number(formatId)] !== undefined) continue; // declared in the file: exceljs has it
    const model = styles.getStyleModel(id);
    if (model && model.numFmt === undefined) model.numFmt = 'yyyy-mm-dd hh:mm:ss';
  }
}

/**
 * The text of a cell as a person reads it, never a formula:
 * - text as is; rich text joined; a hyperlink's text;
 * - numbers by `numberToText` (15 significant digits, see there);
 * - dates (a date number format) as ISO dates, by `dateToText`;
 * - booleans TRUE / FALSE, as Excel shows them;
 * - a formula gives its cached result (what Excel showed when the file was
 *   saved); a formula without one, or an error (#DIV/0!, #N/A), is a problem of
 *   that cell, reported with the row.
 */
export function cellText(value: unknown, numFmt: string | undefined, date1904: boolean): RawCell {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { problem: 'cell_error', message: '单元格中是错误值' };
    return numberToText(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) {
    return dateToText(value) ?? { problem: 'cell_error', message: '单元格中的日期不在 1000–9999 年之间' };
  }
  if (typeof value === 'object') {
    const cell = value as Record<string, unknown>;
    if (Array.isArray(cell.richText)) {
      return (cell.richText as { text?: unknown }[]).map((run) => String(run.text ?? '')).join('');
    }
    if ('formula' in cell || 'sharedFormula' in cell) {
      const result = cell.result;
      if (result === undefined || result === null) {
        return {
          problem: 'formula_without_result',
          // exceljs's streaming reader drops error results (#DIV/0!) too, so both end here.
          message:
            '公式单元格没有可用的计算结果（从未计算过，或结果是 #DIV/0! 等错误）；请在 Excel 或 WPS 中检查后重新保存',
        };
      }
      if (typeof result === 'number' && Number.isNaN(result)) {
        return { problem: 'cell_error', message: '公式的结果是错误值' };
      }
      if (typeof result === 'number' && isDateFormat(numFmt)) {
        return cellText(excelSerialToDate(result, date1904), undefined, date1904);
      }
      return cellText(result, numFmt, date1904);
    }
    if ('error' in cell) return { problem: 'cell_error', message: `单元格中是错误值 ${String(cell.error)}` };
    if ('text' in cell) return cellText(cell.text, numFmt, date1904);
  }
  return { problem: 'cell_error', message: '单元格中的值类型无法识别' };
}
