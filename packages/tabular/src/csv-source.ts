import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import iconv from 'iconv-lite';
import type { RawCell, RawRow } from './cells';
import { TableError } from './errors';
import { csvRecordLengthMax } from './limits';

export type CsvEncoding = 'utf8' | 'gb18030' | 'utf16';
export type CsvDelimiter = ',' | '\t' | ';';

type ByteSource = () => AsyncIterable<Uint8Array>;

/**
 * The encoding of a CSV file: a UTF-16 byte-order mark (Excel's "Unicode text"),
 * else UTF-8 when every byte sequence is valid UTF-8 (with or without BOM), else
 * GB18030 (the superset of GBK/GB2312 that Chinese Excel and WPS save by default).
 * Valid UTF-8 is almost never valid-looking GBK text by accident and vice versa,
 * so checking the whole file, not a prefix, makes the guess safe.
 */
export async function detectEncoding(head: Uint8Array, source: ByteSource): Promise<CsvEncoding> {
  if (hasUtf16Bom(head)) return 'utf16';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let valid = true;
  try {
    for await (const chunk of source()) decoder.decode(chunk, { stream: true });
    decoder.decode();
  } catch {
    valid = false;
  }
  return utf8OrGb18030(head, valid);
}

function hasUtf16Bom(head: Uint8Array): boolean {
  return (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
}

/**
 * A file that announces UTF-8 with a byte-order mark but is not valid UTF-8 was
 * damaged (or concatenated from two files): guessing GB18030 would misread it.
 */
function utf8OrGb18030(head: Uint8Array, validUtf8: boolean): CsvEncoding {
  if (validUtf8) return 'utf8';
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    throw new TableError(
      'invalid_encoding',
      '文件以 UTF-8 字节顺序标记（BOM）开头，内容却不是有效的 UTF-8；请重新导出',
    );
  }
  return 'gb18030';
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return async function* () {
    yield bytes;
  };
}

export function fileSource(path: string): ByteSource {
  return () => createReadStream(path);
}

/** In-memory bytes are checked in one call (faster than the streaming decoder). */
export function detectEncodingOfBytes(bytes: Uint8Array): CsvEncoding {
  if (hasUtf16Bom(bytes)) return 'utf16';
  return utf8OrGb18030(bytes, isUtf8(bytes));
}

/**
 * Picks the delimiter from the first line: a tab-separated export (Excel's
 * "Unicode text") has tabs and usually no commas; a semicolon file comes from a
 * European-locale Excel. Otherwise a comma.
 */
export function detectDelimiter(firstLine: string): CsvDelimiter {
  const count = (char: string) => firstLine.split(char).length - 1;
  const commas = count(',');
  const tabs = count('\t');
  const semicolons = count(';');
  if (tabs > commas && tabs >= semicolons) return '\t';
  if (semicolons > commas && semicolons > tabs) return ';';
  return ',';
}

/** Decoded text chunks; the decoder strips a BOM. */
async function* decodedText(source: ByteSource, encoding: CsvEncoding): AsyncGenerator<string> {
  const decoder = iconv.getDecoder(encoding === 'utf16' ? 'utf16' : encoding);
  for await (const chunk of source()) {
    const text = decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/** Rows of a CSV file, numbered as a spreadsheet shows them (one record = one row). */
export async function* csvRows(
  source: ByteSource,
  encoding: CsvEncoding,
  delimiterOption: CsvDelimiter | 'auto',
): AsyncGenerator<RawRow> {
  const text = decodedText(source, encoding);
  // Peek at the first line to pick the delimiter, then hand everything to the parser.
  const peeked: string[] = [];
  let seen = '';
  // Read by hand: breaking out of for-await would close the generator.
  while (!/[\r\n]/.test(seen) && seen.length <= 65_536) {
    const next = await text.next();
    if (next.done) break;
    peeked.push(next.value);
    seen += next.value;
  }
  const firstLine = seen.split(/\r?\n|\r/, 1)[0] ?? '';
  const delimiter = delimiterOption === 'auto' ? detectDelimiter(firstLine) : delimiterOption;
  async function* all(): AsyncGenerator<string> {
    try {
      yield* peeked;
      for (let next = await text.next(); !next.done; next = await text.next()) yield next.value;
    } finally {
      // Closes the file when the reader stops early.
      await text.return(undefined);
    }
  }
  const decoded = Readable.from(all());
  const parser = decoded.pipe(
    parse({
      delimiter,
      relax_column_count: true,
      // Stray quotes inside an unquoted cell (12" 彩电) are data, not an error that refuses the file.
      relax_quotes: true,
      skip_empty_lines: false,
      max_record_size: csvRecordLengthMax,
    }),
  );
  const gb18030 = encoding === 'gb18030';
  let rowNumber = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      rowNumber += 1;
      yield { rowNumber, cells: record.map((cell) => csvCell(cell, gb18030)) };
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'CSV_MAX_RECORD_SIZE') {
      throw new TableError(
        'record_too_large',
        `第 ${rowNumber + 1} 行超过 ${csvRecordLengthMax} 个字符（是否有未闭合的引号？）`,
        [],
        rowNumber + 1,
      );
    }
    throw new TableError(
      'malformed_csv',
      `第 ${rowNumber + 1} 行不是有效的 CSV（${(error as Error).message}）`,
      [],
      rowNumber + 1,
    );
  } finally {
    parser.destroy();
    decoded.destroy();
  }
}

/**
 * Bank and government systems export digit strings as ="0012" so that Excel
 * keeps the leading zeros and all 19 digits of a card number; the value is the
 * text inside. A U+FFFD in a GB18030 file marks bytes valid in neither encoding.
 */
function csvCell(cell: string, gb18030: boolean): RawCell {
  if (gb18030 && cell.includes('\uFFFD')) {
    return { problem: 'invalid_characters', message: '单元格中的字节既不是 UTF-8 也不是 GBK 编码' };
  }
  const wrapped = /^="([^"]*)"$/.exec(cell);
  return wrapped ? wrapped[1]! : cell;
}
