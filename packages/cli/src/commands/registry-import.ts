import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type ColumnKey, householdColumns, type RowError } from '@fundtrace/pii';
import { readTable, TableError } from '@fundtrace/tabular';
import { ApiError, callApi } from '../http';
import { columnDescriptions, householdColumnSpecs } from './registry-files';

/**
 * `fundtrace registry import <file>`: reads a CSV/XLSX roster, posts every row to registry-api's
 * import endpoint and follows the append with a progress bar. The server checks every row against
 * the county; any bad row rejects the whole file and every problem is printed with its row number.
 */

/** How often the CLI asks for an import's progress: often enough for a live bar, cheap for the server. */
export const importPollMs = 250;
/**
 * Attempts per request when the connection fails before an answer (status 0). Every request here is
 * idempotent (the import is keyed by its command id), so a retry is safe; the usual cause is a
 * keep-alive socket the server closed while this process was busy reading the file.
 */
export const requestAttemptsMax = 3;

/** An import that makes no progress for this long is reported as stuck rather than waited on forever. */
export const importStallMs = 120_000;

export interface ImportFileOptions {
  readonly file: string;
  readonly partition: string;
  readonly dryRun: boolean;
  readonly baseUrl: string;
  readonly token: string;
  /** Default: derived from the partition and the file's bytes, so re-running a file is idempotent. */
  readonly commandId?: string;
  readonly onProgress?: (phase: 'reading' | 'checking' | 'appending', done: number, total: number) => void;
}

export interface ImportSummary {
  readonly commandId: string;
  readonly dryRun: boolean;
  readonly rows: number;
  readonly households: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
}

/** The file's rows were refused; `errors` lists every problem, in row order. */
export class ImportRejectedError extends Error {
  override name = 'ImportRejectedError';
  constructor(
    readonly errors: readonly RowError[],
    readonly rows: number,
  ) {
    super(`${rows} 行中有 ${errors.length} 处问题，未导入任何内容`);
  }
}

interface JobView {
  importId: string;
  status: 'appending' | 'done' | 'failed';
  rows: number;
  households: number;
  appendedHouseholds: number;
  firstSeq: number | null;
  lastSeq: number | null;
  error: string | null;
}

const replacementCharacter = '\uFFFD';
const header: readonly ColumnKey[] = householdColumns.map((c) => c.key);
const headerOfKey = new Map(householdColumns.map((c) => [c.key as string, c.header]));

export async function importHouseholdsFile(options: ImportFileOptions): Promise<ImportSummary> {
  const bytes = await readFile(options.file);
  const commandId =
    options.commandId ??
    `import-${options.partition}-${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}`;
  const progress = options.onProgress ?? (() => {});

  const rows: { row: number; cells: string[] }[] = [];
  const local: RowError[] = [];
  try {
    for await (const row of readTable(
      { bytes, filename: basename(options.file) },
      { columns: householdColumnSpecs },
    )) {
      rows.push({ row: row.rowNumber, cells: header.map((key) => row.values[key]) });
      for (const key of header) {
        // U+FFFD is what a decoder leaves where it could not read the bytes (exceljs's streaming reader
        // does this to a multi-byte character split across chunks, exceljs#2063). It is never real
        // roster data, and a name with it would pass every rule and be stored wrong: refuse the row.
        if (row.values[key].includes(replacementCharacter)) {
          local.push({
            row: row.rowNumber,
            column: headerOfKey.get(key),
            reason: 'unreadable_characters',
            message: '单元格中有无法识别的字符；请重新保存文件，或另存为 CSV 后再导入',
          });
        }
      }
      for (const problem of row.problems) {
        local.push({
          row: row.rowNumber,
          column: headerOfKey.get(problem.field),
          reason: problem.code,
          message: problem.message,
        });
      }
    }
  } catch (error) {
    if (error instanceof TableError) {
      const problems = error.problems.length > 0 ? error.problems : [{ message: error.message }];
      throw new ImportRejectedError(
        problems.map((p) => ({
          row: error.rowNumber ?? 1,
          column: undefined,
          reason: error.code,
          message: p.message,
        })),
        rows.length,
      );
    }
    throw error;
  }
  progress('reading', rows.length, rows.length);
  progress('checking', 0, rows.length);

  const path = `/v1/partitions/${options.partition}/imports`;
  // Rows with unreadable cells are still checked by the server (the cell is sent empty), so one
  // run reports every problem of the file; the server's complaint about such a cell is dropped.
  const dryRun = options.dryRun || local.length > 0;
  let answer: JobView | { dryRun: true; rows: number; households: number };
  try {
    answer = await withRetry(() =>
      callApi({
        baseUrl: options.baseUrl,
        path,
        token: options.token,
        body: { commandId, dryRun, header, rows },
      }),
    );
  } catch (error) {
    if (error instanceof ApiError && error.code === 'import_rows_invalid') {
      const details = error.details as { errors: RowError[] };
      const unreadable = new Set(local.map((e) => `${e.row}:${e.column}`));
      const server = details.errors
        .filter((e) => !unreadable.has(`${e.row}:${headerOfKey.get(e.column ?? '') ?? e.column}`))
        .map((e) => ({
          ...e,
          column: e.column === undefined ? undefined : (headerOfKey.get(e.column) ?? e.column),
          message: formatProblem(e.reason, e.column) ?? e.message,
        }));
      throw new ImportRejectedError(
        [...local, ...server].sort((a, b) => a.row - b.row),
        rows.length,
      );
    }
    throw error;
  }
  if (local.length > 0) throw new ImportRejectedError(local, rows.length);
  // The server has checked every row (a refusal would have thrown above), for a real run too.
  progress('checking', rows.length, rows.length);
  if ('dryRun' in answer) {
    return {
      commandId,
      dryRun: true,
      rows: answer.rows,
      households: answer.households,
      firstSeq: null,
      lastSeq: null,
    };
  }

  let job = answer;
  let lastChange = Date.now();
  let lastDone = -1;
  while (job.status === 'appending') {
    progress('appending', job.appendedHouseholds, job.households);
    if (job.appendedHouseholds !== lastDone) {
      lastDone = job.appendedHouseholds;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > importStallMs) {
      throw new Error(
        `导入 ${commandId} 已 ${importStallMs / 1000} 秒没有进展；请再次运行同一命令，从中断处继续`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, importPollMs));
    job = await callApi<JobView>({
      baseUrl: options.baseUrl,
      path: `${path}/${commandId}`,
      token: options.token,
    });
  }
  if (job.status === 'failed') {
    throw new Error(`导入 ${commandId} 中断：${job.error ?? '原因不明'}；请再次运行同一命令，从中断处继续`);
  }
  progress('appending', job.households, job.households);
  return {
    commandId,
    dryRun: false,
    rows: job.rows,
    households: job.households,
    firstSeq: job.firstSeq,
    lastSeq: job.lastSeq,
  };
}

async function withRetry<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 0) || attempt >= requestAttemptsMax) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

/**
 * @fundtrace/pii's checks of a row's format, worded for the clerk by their stable reasons (0135):
 * registry-api passes pii's English messages on (decision 0131 keeps them for other callers) and
 * words only its own refusals. `key` is the column's key as registry-api names it. Undefined: the
 * server's message stands (registry-api's own refusals are Chinese already).
 */
export function formatProblem(reason: string, key: string | undefined): string | undefined {
  const allowed = key === undefined ? undefined : columnDescriptions[key as ColumnKey];
  switch (reason) {
    case 'required':
      return '未填写';
    case 'too_long':
      return '内容过长';
    case 'date':
      return '不是日期（YYYY-MM-DD）';
    case 'unknown_value':
      return allowed === undefined ? '不是可识别的取值' : `不是可识别的取值；可填：${allowed}`;
    case 'format':
      return key === 'householdId' ? '只能由 1–40 个字母、数字、“_”或“-”组成' : undefined;
    case 'incomplete':
      return key === 'disabilityGrade'
        ? '残疾类别和残疾等级须同时填写'
        : key === 'accountNumber'
          ? '开户银行、账户类型和一卡通账号须同时填写'
          : undefined;
    default:
      return undefined;
  }
}

/**
 * One line per problem, as a clerk reads them (0135): 第 N 行，<列名>：<原因>（code), the code after
 * the words as the ledger import shows its refusals, for whoever the clerk asks for help.
 */
export function formatRowErrors(errors: readonly RowError[]): string {
  return errors
    .map((e) => `  第 ${e.row} 行${e.column ? `，${e.column}` : ''}：${e.message}（${e.reason}）`)
    .join('\n');
}

/** What a registry import did, or that a dry run found every row good. */
export function importSummary(summary: ImportSummary): string {
  return summary.dryRun
    ? `试运行：${summary.rows} 行、${summary.households} 户均通过检查，未导入任何内容`
    : `已导入 ${summary.households} 户（${summary.rows} 行），导入编号 ${summary.commandId}，登记库序号 ${summary.firstSeq ?? '-'}–${summary.lastSeq ?? '-'}`;
}
