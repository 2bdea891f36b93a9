import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cellLengthMax,
  isFormulaLike,
  readTable,
  TableError,
  type TableRow,
  writeCsv,
  writeXlsx,
} from '@fundtrace/tabular';
import { recordReliability, reliabilityIterations } from '@fundtrace/testkit';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type RosterField,
  rosterColumns,
  rosterFromRows,
} from '../../packages/cli/src/commands/ledger-files';
import { householdColumnSpecs } from '../../packages/cli/src/commands/registry-files';
import { parseCsv } from './support/csv';
import { hostileAmounts, hostileDates, hostileStrings } from './support/hostile';

/**
 * The import formats under fuzzing: CSV (UTF-8 with and without BOM, GBK, UTF-16, three delimiters)
 * and XLSX (strings, numbers, Excel dates, formulas with and without a saved result, error cells,
 * cells past Excel's length limit, broken and truncated zips) through @fundtrace/tabular and the
 * CLI's roster and household readers, and the real `fundtrace` command on hostile files. The only
 * outcomes: rows (each problem named, with its row and column), or a named `TableError` for the
 * whole file; the CLI exits 2 with row-numbered reasons. Exports are checked to never write a
 * cell a spreadsheet would execute.
 */

const runs = reliabilityIterations(15, 400);
const brokenRuns = reliabilityIterations(20, 300);
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'fuzz-imports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tableErrorCodes = new Set([
  'unsupported_format',
  'file_too_large',
  'invalid_encoding',
  'sheet_not_found',
  'header_invalid',
  'too_many_rows',
  'record_too_large',
  'malformed_csv',
  'malformed_xlsx',
]);

/** A cell as a person, a bank system or a broken export writes it. */
const hostileCell: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...hostileAmounts.map(String), ...hostileDates, ...hostileStrings.slice(0, 16)),
  fc.constantFrom(
    '=1+1',
    '=SUM(A1:A9)',
    '+86 138',
    '@cmd',
    '="0012"',
    '"',
    '""',
    'a,b',
    'a\nb',
    'a\r\nb',
    '\t',
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.integer({ min: 0, max: 99_999 }).map(String),
);

const rosterHeader = ['户编号', '户主姓名', '项目代码', '金额(元)', '期间', '公示编号', '人数'];
const validRosterRow = () => ['41132500000001', '张三', 'dibao_class1', '190.00', '2024-06', 'n-1', '1'];

interface Outcome {
  rows: number;
  rowProblems: number;
  tableError?: string;
}

/** Reads a file the way an import does and checks every outcome is a named, located one. */
async function readAs<F extends string>(
  bytes: Uint8Array,
  filename: string,
  columns: readonly import('@fundtrace/tabular').ColumnSpec<F>[],
): Promise<{ outcome: Outcome; rows: TableRow<F>[] }> {
  const rows: TableRow<F>[] = [];
  try {
    for await (const row of readTable({ bytes, filename }, { columns })) {
      expect(row.rowNumber).toBeGreaterThanOrEqual(1);
      for (const problem of row.problems) {
        expect(problem.message.length).toBeGreaterThan(5);
        expect(problem.column).toMatch(/^[A-Z]+$/);
      }
      rows.push(row);
    }
  } catch (error) {
    // Anything but a named TableError is a crash.
    if (!(error instanceof TableError)) throw error;
    expect(tableErrorCodes.has(error.code), error.code).toBe(true);
    expect(error.message.length).toBeGreaterThan(5);
    return { outcome: { rows: rows.length, rowProblems: 0, tableError: error.code }, rows };
  }
  return {
    outcome: { rows: rows.length, rowProblems: rows.reduce((n, r) => n + r.problems.length, 0) },
    rows,
  };
}

function encodeCsv(table: string[][], encoding: string, delimiter: string): Uint8Array {
  const quote = (cell: string) => (/[",\n\r;\t]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
  const text = table.map((row) => row.map(quote).join(delimiter)).join('\r\n');
  switch (encoding) {
    case 'utf8-bom':
      return Buffer.from(`\ufeff${text}`, 'utf8');
    case 'gbk':
      return iconv.encode(text, 'gbk');
    case 'utf16le-bom':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(text, 'utf16le')]);
    default:
      return Buffer.from(text, 'utf8');
  }
}

async function xlsxOf(table: unknown[][]): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('花名册');
  for (const row of table) sheet.addRow(row as ExcelJS.CellValue[]);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const tally = { files: 0, rows: 0, rowProblems: 0, tableErrors: {} as Record<string, number> };
function count(outcome: Outcome): void {
  tally.files++;
  tally.rows += outcome.rows;
  tally.rowProblems += outcome.rowProblems;
  if (outcome.tableError)
    tally.tableErrors[outcome.tableError] = (tally.tableErrors[outcome.tableError] ?? 0) + 1;
}

/** A roster of hostile rows: never a crash, and a bad amount is always a located error. */
async function checkRoster(bytes: Uint8Array, filename: string): Promise<void> {
  const { outcome, rows } = await readAs<RosterField>(bytes, filename, rosterColumns);
  count(outcome);
  if (outcome.tableError) return;
  const { errors, body } = rosterFromRows(rows);
  for (const e of errors) {
    expect(e.row).toBeGreaterThanOrEqual(1);
    expect(e.message.length).toBeGreaterThan(5);
  }
  // Whatever reached a body is a canonical amount of fen.
  for (const row of body?.rows ?? []) expect(String(row.amountFen)).toMatch(/^(0|[1-9][0-9]*)$/);
}

describe('import formats', () => {
  it('CSV rosters in every encoding and delimiter, hostile cells: rows with located problems or a named file error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(hostileCell, { minLength: 7, maxLength: 7 }), { minLength: 0, maxLength: 12 }),
        fc.constantFrom('utf8', 'utf8-bom', 'gbk', 'utf16le-bom'),
        fc.constantFrom(',', '\t', ';'),
        fc.boolean(),
        async (rows, encoding, delimiter, withValid) => {
          const table = [rosterHeader, ...(withValid ? [validRosterRow()] : []), ...rows];
          await checkRoster(encodeCsv(table, encoding, delimiter), 'roster.csv');
        },
      ),
      { numRuns: runs },
    );
  });

  it('XLSX rosters with strings, numbers, Excel dates, formulas and error cells', async () => {
    const xlsxCell: fc.Arbitrary<unknown> = fc.oneof(
      hostileCell,
      fc.double({ noNaN: true, min: -1e12, max: 1e12 }),
      fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
      fc.constantFrom<unknown>(
        { formula: '1+1', result: 2 },
        { formula: 'A1*2' },
        { formula: 'HYPERLINK("http://x","y")', result: 'y' },
        { error: '#DIV/0!' },
        { error: '#N/A' },
        null,
        true,
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(xlsxCell, { minLength: 7, maxLength: 7 }), { minLength: 0, maxLength: 10 }),
        async (rows) => {
          await checkRoster(await xlsxOf([rosterHeader, validRosterRow(), ...rows]), 'roster.xlsx');
        },
      ),
      { numRuns: Math.max(5, Math.floor(runs / 2)) },
    );
  });

  it('broken and truncated XLSX files are a named malformed_xlsx (or read), never a crash', async () => {
    const valid = await xlsxOf([rosterHeader, validRosterRow(), validRosterRow()]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.subarray(0, n)),
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 20,
            })
            .map((flips) => {
              const copy = Buffer.from(valid);
              for (const [at, byte] of flips) copy[at] = byte;
              return copy;
            }),
          fc.uint8Array({ maxLength: 4_096 }),
        ),
        async (bytes) => {
          const { outcome } = await readAs<RosterField>(bytes, 'broken.xlsx', rosterColumns);
          count(outcome);
        },
      ),
      // A file exceljs stalls on costs xlsxStallMs (10 s) before it is refused.
      { numRuns: brokenRuns },
    );
  }, 600_000);

  it('a 10 MB cell is a row problem with its row and column, and the file goes on', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    const table = [
      rosterHeader,
      validRosterRow(),
      ['41132500000002', huge, 'dibao_class1', '190.00', '2024-06', 'n-1', '1'],
      validRosterRow(),
    ];
    const { outcome, rows } = await readAs<RosterField>(
      encodeCsv(table, 'utf8', ','),
      'huge.csv',
      rosterColumns,
    );
    count(outcome);
    expect(outcome.tableError).toBeUndefined();
    expect(rows.map((r) => r.rowNumber)).toEqual([2, 3, 4]);
    expect(rows[1]!.problems).toEqual([expect.objectContaining({ code: 'cell_too_long', column: 'B' })]);
    expect(huge.length).toBeGreaterThan(cellLengthMax);
  });

  it('a sheet larger than the import allows is refused as a named too_many_rows', async () => {
    const table = [rosterHeader, ...Array.from({ length: 2_001 }, validRosterRow)];
    await expect(
      (async () => {
        for await (const _ of readTable(
          { bytes: encodeCsv(table, 'gbk', ','), filename: 'big.csv' },
          { columns: rosterColumns, rowsMax: 2_000 },
        )) {
          // read on
        }
      })(),
    ).rejects.toMatchObject({ name: 'TableError', code: 'too_many_rows' });
  });

  it('household rosters (GBK, BOM, formulas, dates) read into named problems, never a crash', async () => {
    const header = householdColumnSpecs.map((c) => c.headers[0]!);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(hostileCell, { minLength: header.length, maxLength: header.length }), {
          maxLength: 8,
        }),
        fc.constantFrom('utf8', 'utf8-bom', 'gbk', 'utf16le-bom'),
        async (rows, encoding) => {
          const { outcome } = await readAs(
            encodeCsv([header, ...rows], encoding, ','),
            'households.csv',
            householdColumnSpecs,
          );
          count(outcome);
        },
      ),
      { numRuns: runs },
    );
  });
});

describe('exports', () => {
  it('writeCsv and writeXlsx never write a cell a spreadsheet would execute', async () => {
    const columns = [
      { field: 'text' as const, header: '=说明', kind: 'text' as const },
      { field: 'other' as const, header: '备注', kind: 'text' as const },
    ];
    let cells = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ text: hostileCell, other: hostileCell }), { minLength: 1, maxLength: 8 }),
        async (rows) => {
          const csv = await streamText(writeCsv(rows, columns));
          for (const cell of parseCsv(csv).flat()) {
            cells++;
            expect(isFormulaLike(cell), JSON.stringify(cell)).toBe(false);
          }
          const workbook = new ExcelJS.Workbook();
          await workbook.xlsx.load(
            (await streamBytes(writeXlsx(rows, columns, { sheetName: 'x' }))) as unknown as ArrayBuffer,
          );
          workbook.eachSheet((sheet) =>
            sheet.eachRow((row) =>
              row.eachCell((cell) => {
                cells++;
                expect(cell.type === ExcelJS.ValueType.Formula || cell.formula !== undefined).toBe(false);
              }),
            ),
          );
        },
      ),
      { numRuns: runs },
    );
    recordReliability({
      suite: 'bad-input',
      name: 'formula injection (CSV/XLSX writers)',
      injected:
        'rows of hostile cells (= + - @ tab CR prefixes, full-width ＝, quotes, newlines, binary) and a hostile header',
      iterations: cells,
      checked: 'no CSV cell starts a formula unless quoted; no XLSX cell is a formula',
      result: 'passed',
    });
  });
});

async function streamBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  return (await streamBytes(stream)).toString('utf8').replace(/^\ufeff/, '');
}

/** Runs the real CLI (a process, as staff run it) and returns its exit code and stderr. */
function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'packages', 'cli', 'src', 'main.ts'), ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, FUNDTRACE_TOKEN: 'not-used' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('the fundtrace command on hostile files', () => {
  it('a broken XLSX and a roster of bad amounts exit 2 with row-numbered reasons, not a stack trace', async () => {
    const valid = await xlsxOf([rosterHeader, validRosterRow()]);
    const broken = join(dir, 'broken.xlsx');
    writeFileSync(broken, valid.subarray(0, valid.length >> 1));
    const bad = join(dir, 'bad-amounts.csv');
    const rows = ['-1', '1.005', '1e9', '１２３', '=1+1'].map((amount, i) => [
      `4113250000000${i + 1}`,
      '张三',
      'dibao_class1',
      amount,
      '2024-06',
      'n-1',
      '1',
    ]);
    writeFileSync(bad, encodeCsv([rosterHeader, ...rows], 'gbk', ','));
    const url = ['--url', 'http://127.0.0.1:9', '--partition', '411325'];
    for (const [file, expectRows] of [
      [broken, false],
      [bad, true],
    ] as const) {
      for (const args of [
        ['ledger', 'import', 'roster', file, ...url],
        ['registry', 'import', file, ...url],
      ]) {
        const { code, stderr } = await cli(args);
        const what = `${args.slice(0, 3).join(' ')} ${file}: ${stderr}`;
        expect(code, what).toBe(2);
        expect(stderr, what).not.toMatch(/\n\s+at |TypeError|ReferenceError|node:internal/);
        if (expectRows && args[0] === 'ledger')
          for (const row of [2, 3, 4, 6]) expect(stderr, what).toContain(`第 ${row} 行：`);
        if (!expectRows) expect(stderr, what).toMatch(/malformed_xlsx|cannot be read|not a valid/i);
      }
    }
  });
});

describe('record', () => {
  it('counts what was tried', () => {
    recordReliability({
      suite: 'bad-input',
      name: 'import formats (CSV/XLSX readers, CLI)',
      injected:
        'CSV rosters in UTF-8, UTF-8+BOM, GBK, UTF-16 with , tab ; and hostile cells; XLSX with numbers, dates, formulas with/without results, error cells; truncated, byte-flipped and random zips; a 10 MB cell; a sheet over the row limit; the real CLI on a broken XLSX and bad amounts',
      iterations: tally.files,
      checked:
        'rows with located, named problems or one named TableError; roster amounts only canonical fen; the CLI exits 2 with row numbers, never a stack trace',
      result: 'passed',
      details: tally,
    });
    expect(tally.files).toBeGreaterThan(0);
  });
});
