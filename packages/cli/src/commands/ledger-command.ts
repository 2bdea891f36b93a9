import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { readTable, type TableRow, writeTemplate } from '@fundtrace/tabular';
import { Command } from 'commander';
import { bearerToken, serviceUrl, UsageError } from '../context';
import { ApiError, callApi } from '../http';
import { progressBar } from '../progress';
import { paymentStatusName } from '../words';
import {
  type AllocationField,
  allocationColumns,
  allocationFromRow,
  type BankResultRow,
  type LedgerImportKind,
  ledgerImportKinds,
  noDataRows,
  type PlanField,
  type ProjectField,
  planColumns,
  plansFromRows,
  projectColumns,
  projectFromRow,
  type RosterBody,
  type RosterField,
  type RowError,
  rosterColumns,
  rosterFromRows,
  type SettlementField,
  settlementColumns,
  settlementsFromRows,
  templates,
} from './ledger-files';

interface CommandResult {
  commandId: string;
  duplicate: boolean;
  dryRun: boolean;
  eventCount: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** A bank file's rows whose payment already had that result: no event for them (0129). */
  alreadyRecorded?: number;
}

interface ImportOptions {
  partition: string;
  dryRun: boolean;
  account: string;
  rosterId?: string;
  /** Publish the roster file as the notice (公示名单) in its 公示编号 column instead of paying it. */
  asNotice?: boolean;
  title?: string;
  stage?: string;
  startsOn?: string;
  endsOn?: string;
  url?: string;
  token?: string;
}

/** One request to ledger-api, to be checked (dry run) and then appended. */
interface Planned {
  readonly row: number | null;
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** For a notice's list: the file row of each line (line n is lineRows[n - 1]), for error reports. */
  readonly lineRows?: readonly number[];
  /** A bank's result file (回盘): the payment each file row names, for the officer's error list. */
  readonly paymentOfRow?: ReadonlyMap<number, string>;
}

/** The file's rows, read in full before anything is sent: imports are all-or-nothing. */
async function readRows<F extends string>(
  bytes: Uint8Array,
  file: string,
  columns: readonly import('@fundtrace/tabular').ColumnSpec<F>[],
) {
  const rows: TableRow<F>[] = [];
  const bar = progressBar('正在读取', 0);
  for await (const row of readTable({ bytes, filename: basename(file) }, { columns })) {
    rows.push(row);
    if (rows.length % 1_000 === 0) bar.update(rows.length, rows.length);
  }
  bar.update(rows.length, rows.length);
  bar.stop();
  return rows;
}

/**
 * Turns a file into the requests it stands for. Command ids are derived from
 * the file's content and the row, so running the same import again (after a
 * crash, a timeout) resumes: rows already booked answer as duplicates.
 */
async function plan(
  kind: LedgerImportKind,
  file: string,
  options: ImportOptions,
): Promise<{ planned: Planned[]; errors: RowError[] }> {
  const bytes = new Uint8Array(await readFile(file));
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const idFor = (suffix: string) => `import-${kind}-${digest}-${suffix}`;
  switch (kind) {
    case 'roster': {
      const rows = await readRows<RosterField>(bytes, file, rosterColumns);
      const { body, errors } = rosterFromRows(rows);
      if (!body) return { planned: [], errors };
      if (options.asNotice) return { planned: [noticeOf(body, options, idFor('notice'))], errors };
      const rosterId =
        options.rosterId ??
        `RS-${body.programmeCode}-${body.period}-${digest.slice(0, 8)}`.replaceAll('_', '-');
      return {
        planned: [
          {
            row: null,
            path: 'rosters',
            body: { commandId: idFor('roster'), rosterId, accountId: options.account, ...body },
          },
        ],
        errors,
      };
    }
    case 'allocations': {
      const rows = await readRows<AllocationField>(bytes, file, allocationColumns);
      return collect(
        rows.map((row) => ({ row: row.rowNumber, parsed: allocationFromRow(row, options.account) })),
        'allocations',
        idFor,
      );
    }
    case 'projects': {
      const rows = await readRows<ProjectField>(bytes, file, projectColumns);
      return collect(
        rows.map((row) => ({ row: row.rowNumber, parsed: projectFromRow(row) })),
        'projects',
        idFor,
      );
    }
    case 'settlements': {
      const rows = await readRows<SettlementField>(bytes, file, settlementColumns);
      const { rows: results, errors } = settlementsFromRows(rows, options.rosterId);
      // The whole file is one command (0129): checked in one dry run, appended in one request, and
      // named by the file's content, so running the same file again appends nothing.
      return {
        planned: [
          {
            row: null,
            path: 'bank-results',
            body: { commandId: idFor('bank-results'), rows: results },
            paymentOfRow: new Map(results.map((r) => [r.row, r.paymentId])),
          },
        ],
        errors,
      };
    }
    case 'plans': {
      const rows = await readRows<PlanField>(bytes, file, planColumns);
      const { bodies, errors } = plansFromRows(rows);
      return {
        planned: bodies.map((body) => ({
          row: null,
          path: 'plans',
          body: { commandId: idFor(body.planId), ...body },
        })),
        errors,
      };
    }
  }
}

/**
 * A roster file as a notice (公示): its rows become the notice's list of proposed households, in
 * file order (line 1 is the first data row), published before anyone is paid.
 */
function noticeOf(body: RosterBody, options: ImportOptions, commandId: string): Planned {
  const missing: string[] = body.noticeId === null ? ['文件中的公示编号列'] : [];
  const flags = [
    ['title', '--title'],
    ['startsOn', '--starts-on'],
    ['endsOn', '--ends-on'],
  ] as const;
  for (const [option, flag] of flags) if (!options[option]) missing.push(flag);
  if (missing.length > 0) throw new UsageError(`--as-notice 还需要：${missing.join('、')}`);
  return {
    row: null,
    path: 'notices',
    lineRows: body.rows.map((r) => r.row),
    body: {
      commandId,
      noticeId: body.noticeId,
      kind: 'roster',
      title: options.title,
      stage: options.stage,
      programmeCode: body.programmeCode,
      period: body.period,
      startsOn: options.startsOn,
      endsOn: options.endsOn,
      lines: body.rows.map((r, i) => ({
        line: i + 1,
        householdId: r.householdId,
        quantity: r.quantity,
        amountFen: r.amountFen,
      })),
    },
  };
}

function collect(
  parsed: Array<{ row: number; parsed: { body?: Record<string, unknown>; error?: RowError } }>,
  path: string,
  idFor: (suffix: string) => string,
) {
  const errors: RowError[] = [];
  const planned: Planned[] = [];
  for (const { row, parsed: p } of parsed) {
    if (p.error) errors.push(p.error);
    else planned.push({ row, path, body: { commandId: idFor(`r${row}`), ...p.body } });
  }
  if (parsed.length === 0) errors.push({ row: 1, message: noDataRows });
  return { planned, errors };
}

/** Server refusals of one request, as row errors: roster errors carry their own row numbers. */
function rowErrorsOf(error: ApiError, planned: Planned): RowError[] {
  const details = error.details as {
    errors?: Array<{ row: number | null; index?: number; message: string; code?: string }>;
  } | null;
  if (details?.errors && Array.isArray(details.errors)) {
    // A notice's list reports line numbers; the officer needs the file's row.
    const rowOf = (line: number | null) =>
      line !== null && planned.lineRows !== undefined ? (planned.lineRows[line - 1] ?? line) : line;
    return details.errors.map((e) => {
      const row = rowOf(e.row) ?? (e.index ?? 0) + 2;
      // A bank row naming no payment: which of the file's columns to check.
      const paymentId = e.code === 'payment_not_found' ? planned.paymentOfRow?.get(row) : undefined;
      return {
        row,
        message:
          paymentId !== undefined ? noSuchPayment(paymentId) : refusal(e.code ?? error.code, e.message),
      };
    });
  }
  return [{ row: planned.row ?? 0, message: refusal(error.code, error.message) }];
}

/**
 * One refusal as the officer reads it: the ledger's Chinese message (0131), its code after it for
 * whoever the officer asks for help.
 */
export function refusal(code: string, message: string): string {
  return `${message}（${code}）`;
}

/**
 * The first line of the ledger's refusals: how many rows, or the file as a whole when a refusal
 * names no row (an unpublished notice, a notice period not over). "1 row(s) refused" above a
 * refusal without a row number sent officers looking for the bad row. In Chinese, as the
 * refusals under it (0131).
 */
export function refusalHeading(errors: readonly RowError[]): string {
  const rows = new Set(errors.filter((e) => e.row > 0).map((e) => e.row)).size;
  const whole = errors.some((e) => e.row <= 0);
  if (rows === 0) return '记账系统拒绝了整个文件';
  return `记账系统拒绝了 ${rows} 行${whole ? '，并拒绝了整个文件' : ''}`;
}

/** The ledger's refusals under their heading, one a line: 第 N 行：message（code）. */
export function formatRefusals(errors: readonly RowError[]): string {
  return formatRowErrors(errors);
}

/**
 * What an import booked, in the officer's words (0135), naming the roster or notice it made: the id
 * to ask ledger-api about.
 */
export function importedSummary(
  fileName: string,
  planned: readonly Pick<Planned, 'path' | 'body'>[],
  events: number,
  duplicates: number,
): string {
  const only = planned.length === 1 ? planned[0] : undefined;
  if (only?.path === 'bank-results') {
    // A bank's result file (回盘): what it recorded, in the notice board's words for a payment's status.
    const rows = only.body.rows as readonly BankResultRow[];
    const settled = rows.filter((r) => r.result === 'settled').length;
    const returned = rows.length - settled;
    return (
      `已导入 ${fileName}：${settled} 笔${paymentStatusName('settled')}（成功），${returned} 笔${paymentStatusName('returned')}（失败），记入 ${events} 条事件` +
      (duplicates > 0 ? `（${duplicates} 笔此前已记录，本次未重复记录）` : '')
    );
  }
  const made =
    only?.path === 'rosters'
      ? `花名册 ${String(only.body.rosterId)}，`
      : only?.path === 'notices'
        ? `公示 ${String(only.body.noticeId)}，`
        : '';
  return (
    `已导入 ${fileName}：${made}${planned.length} 条命令，记入 ${events} 条事件` +
    (duplicates > 0 ? `（${duplicates} 条此前已登记，本次未重复登记）` : '')
  );
}

/** Row errors one a line, by row: 第 N 行：…, the file's own checks and the ledger's refusals alike. */
export function formatRowErrors(
  errors: readonly RowError[],
  rowLabel: (row: number) => string = (row) => `第 ${row} 行：`,
): string {
  return [...errors]
    .sort((a, b) => a.row - b.row)
    .map((e) => (e.row > 0 ? `  ${rowLabel(e.row)}${e.message}` : `  ${e.message}`))
    .join('\n');
}

/** The heading over the file's own bad rows: nothing was sent to the ledger. */
export function badRowsHeading(fileName: string, errors: readonly RowError[]): string {
  return `${fileName} 中有 ${new Set(errors.map((e) => e.row)).size} 行有误，未登记任何内容：`;
}

/** A dry run's answer: every row passed the ledger's checks, nothing was booked. */
export function dryRunSummary(fileName: string, rows: number, commands: number): string {
  return `试运行：${fileName} 的 ${rows} 行均通过记账系统的检查（${commands} 条命令），未登记任何内容`;
}

/** A bank row naming no payment of the ledger: which columns to check. */
export function noSuchPayment(paymentId: string): string {
  return refusal(
    'payment_not_found',
    `记账系统中没有补贴发放 ${paymentId}；请核对该行的支付编号，或花名册编号和花名册行号（该笔发放在导入时花名册文件中的行号）。`,
  );
}

export async function importLedgerFile(
  kind: LedgerImportKind,
  file: string,
  options: ImportOptions,
): Promise<number> {
  const baseUrl = serviceUrl('ledger-api', options.url);
  const token = bearerToken('finance', options.token);
  const { planned, errors } = await plan(kind, file, options);
  if (errors.length > 0) {
    process.stderr.write(`${badRowsHeading(basename(file), errors)}\n${formatRowErrors(errors)}\n`);
    return 2;
  }
  const post = (p: Planned, dryRun: boolean) =>
    callApi<CommandResult>({
      baseUrl,
      path: `/v1/partitions/${options.partition}/${p.path}${dryRun ? '?dryRun=true' : ''}`,
      token,
      body: p.body,
    });

  // Every request is checked by the ledger before the first one is appended.
  const serverErrors: RowError[] = [];
  const check = progressBar('正在检查', planned.length);
  for (const [i, p] of planned.entries()) {
    try {
      await post(p, true);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status === 0 || error.status >= 500) throw error;
      serverErrors.push(...rowErrorsOf(error, p));
    }
    check.update(i + 1);
  }
  check.stop();
  if (serverErrors.length > 0) {
    process.stderr.write(
      `${refusalHeading(serverErrors)}，未登记任何内容：\n${formatRefusals(serverErrors)}\n`,
    );
    return 2;
  }
  if (options.dryRun) {
    // A bank file (or any command carrying rows) is one command of many rows: count the rows.
    const rows = planned.reduce((n, p) => n + (Array.isArray(p.body.rows) ? p.body.rows.length : 1), 0);
    process.stdout.write(`${dryRunSummary(basename(file), rows, planned.length)}\n`);
    return 0;
  }
  const bar = progressBar('正在登记', planned.length);
  let events = 0;
  let duplicates = 0;
  for (const [i, p] of planned.entries()) {
    const result = await post(p, false);
    // A command booked by an earlier run answers with that run's events: none is appended now.
    // A bank file counts its rows: those recorded before (by this file or another) made no event.
    const rows = p.path === 'bank-results' ? (p.body.rows as readonly unknown[]).length : 1;
    if (result.duplicate) duplicates += rows;
    else {
      events += result.eventCount;
      duplicates += result.alreadyRecorded ?? 0;
    }
    bar.update(i + 1);
  }
  bar.stop();
  process.stdout.write(`${importedSummary(basename(file), planned, events, duplicates)}\n`);
  return 0;
}

/** `fundtrace ledger …`: imports of allocations, plans, projects and rosters, and their templates. */
export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('the finance bureau’s books: imports and templates');
  ledger
    .command('import')
    .description(
      'import allocations, plans, projects, a payment roster (发放花名册) or the bank’s results of a paid roster (settlements, 回盘) from CSV/XLSX; any bad row appends nothing',
    )
    .argument('<kind>', ledgerImportKinds.join(' | '))
    .argument('<file>', 'CSV or XLSX file (see `fundtrace ledger template`)')
    .requiredOption('--partition <code>', 'the books to write, e.g. 411325')
    .option('--account <id>', 'the pool account paying the roster or issuing the allocations', 'POOL')
    .option(
      '--roster-id <id>',
      'roster id (default derived from programme, period and file); settlements: the roster whose 花名册行号 the file gives',
    )
    .option(
      '--as-notice',
      'roster only: publish the file as the notice (公示名单) named in its 公示编号 column instead of paying it',
      false,
    )
    .option('--title <text>', 'with --as-notice: the notice title, e.g. 2024年6月农村低保名单公示')
    .option(
      '--stage <code>',
      'with --as-notice: the notice stage of the programme (first_review, approval …)',
      'approval',
    )
    .option('--starts-on <date>', 'with --as-notice: first day of the notice period (YYYY-MM-DD)')
    .option('--ends-on <date>', 'with --as-notice: last day of the notice period (YYYY-MM-DD)')
    .option('--dry-run', 'check every row with the ledger and append nothing', false)
    .option('--url <url>', 'ledger-api base URL')
    .option('--token <token>', 'bearer token of a finance officer')
    .action(async (kind: string, file: string, options: ImportOptions) => {
      if (!(ledgerImportKinds as readonly string[]).includes(kind)) {
        throw new UsageError(`没有 ${kind} 这种导入类型；可用：${ledgerImportKinds.join('、')}`);
      }
      if (!/^\d{6}$/.test(options.partition)) throw new UsageError('--partition 应为 6 位行政区划代码');
      process.exitCode = await importLedgerFile(kind as LedgerImportKind, resolve(file), options);
    });
  ledger
    .command('template')
    .description('write the XLSX import template of a kind (header row, one example row, instructions sheet)')
    .argument('<kind>', ledgerImportKinds.join(' | '))
    .argument('[path]', 'where to write it (default: ledger-<kind>.xlsx in the current directory)')
    .action(async (kind: string, path?: string) => {
      if (!(ledgerImportKinds as readonly string[]).includes(kind)) {
        throw new UsageError(`没有 ${kind} 这种模板；可用：${ledgerImportKinds.join('、')}`);
      }
      const t = templates[kind as LedgerImportKind];
      // The current directory, as `registry template` does: writing over the committed
      // templates/ left the checkout dirty with every run (exceljs stamps the time in the file).
      const target = resolve(path ?? t.file);
      await writeTemplate(t.columns, t.example, target);
      process.stdout.write(`wrote ${target}\n`);
    });
  return ledger;
}
