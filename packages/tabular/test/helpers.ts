import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import {
  type ColumnSpec,
  type ReadTableOptions,
  readTable,
  type TableInput,
  type TableRow,
} from '../src/index';

/** A roster's columns, as the registry import declares them. */
export const rosterColumns = [
  { field: 'household_no', headers: ['户编号', 'household_no', 'household no'], required: true },
  { field: 'name', headers: ['户主姓名', '姓名', 'name'], required: true },
  { field: 'amount', headers: ['金额（元）', '金额', 'amount'], required: true, kind: 'money' },
  { field: 'paid_on', headers: ['发放日期', 'paid_on'], kind: 'date' },
  { field: 'note', headers: ['备注', 'note'] },
] as const satisfies readonly ColumnSpec[];

export type RosterField = (typeof rosterColumns)[number]['field'];

export async function readAll<F extends string>(
  input: TableInput,
  options: ReadTableOptions<F>,
): Promise<TableRow<F>[]> {
  const rows: TableRow<F>[] = [];
  for await (const row of readTable(input, options)) rows.push(row);
  return rows;
}

/** Resolves to the error readTable throws, failing the test if it does not throw. */
export async function readError<F extends string>(input: TableInput, options: ReadTableOptions<F>) {
  try {
    await readAll(input, options);
  } catch (error) {
    return error as Error & { code?: string; problems?: { code: string; field?: string; message: string }[] };
  }
  throw new Error('expected readTable to refuse the file');
}

/** A temporary directory per test file, removed afterwards. */
export async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fundtrace-tabular-'));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Whether this process still has `path` open (Linux /proc; elsewhere reports
 * false, and the tests that use it prove less). Waits a few turns first: streams
 * close asynchronously after destroy().
 */
export async function isOpen(path: string): Promise<boolean> {
  if (!existsSync('/proc/self/fd')) return false;
  for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  return readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  });
}
