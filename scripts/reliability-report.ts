// RELIABILITY.md from the evidence the reliability tests recorded (JSON lines written by
// recordReliability of @fundtrace/testkit). Pure: records and run facts in, markdown out, so the
// generator is tested without running the suite (test/reliability/report.test.ts).
import type { ReliabilityRecord } from '../packages/testkit/src/reliability';

/** A record as read back from its JSON line: `at` and `long` are added by recordReliability. */
export type StoredRecord = ReliabilityRecord & { readonly at?: string; readonly long?: boolean };

export interface RunFacts {
  /** When the run started (ISO 8601). */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** `quick` (CI) or `long` (FUNDTRACE_LONG=1). */
  readonly form: 'quick' | 'long';
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly os: string;
    readonly node: string;
  };
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
  /** The test files (or directories) the run gave vitest. */
  readonly testFiles: readonly string[];
  /** vitest's exit code: 0 when every test passed. */
  readonly vitestExitCode: number;
  /** `file > test name: first line of the error` of every test that failed (vitest's JSON report). */
  readonly failedTests?: readonly string[];
}

/** The failed tests in vitest's JSON report (`--reporter=json`), as `file > test: message`. */
export function failedTestsOf(json: string, root: string): string[] {
  const report = JSON.parse(json) as {
    testResults?: Array<{
      name: string;
      status: string;
      message?: string;
      assertionResults?: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
    }>;
  };
  const out: string[] = [];
  for (const file of report.testResults ?? []) {
    const name = file.name.startsWith(`${root}/`) ? file.name.slice(root.length + 1) : file.name;
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed)
      out.push(`${name} > ${a.fullName}: ${(a.failureMessages?.[0] ?? '').split('\n')[0]}`);
    if (failed.length === 0 && file.status === 'failed')
      out.push(`${name}: ${(file.message ?? '').split('\n')[0]}`);
  }
  return out;
}

/** Rows shown per table in a record's details; the JSONL under .data/reliability has them all. */
export const detailRowsMax = 200;

const suites: ReadonlyArray<{ suite: ReliabilityRecord['suite']; title: string; intro: string }> = [
  {
    suite: 'fault',
    title: 'Faults',
    intro:
      'Each fault test kills, freezes or cuts off real processes (services run as child processes, private nats-server and PostgreSQL from @fundtrace/testkit) and ends with an independent check of the books.',
  },
  {
    suite: 'bad-input',
    title: 'Bad input',
    intro:
      'Random and adversarial input per route and import format; the only acceptable answers are 2xx and 4xx.',
  },
  {
    suite: 'authorization',
    title: 'Authorization',
    intro: 'Every route against every role, expected allow or deny.',
  },
  {
    suite: 'privacy',
    title: 'Privacy',
    intro: 'Greps for personal data and secrets over everything the suite produced.',
  },
];

/** Parses the JSON lines of one or more `<suite>.jsonl` files; a line that is not a record is an error. */
export function parseRecords(text: string, source = 'records'): StoredRecord[] {
  const out: StoredRecord[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${source} line ${i + 1} is not JSON: ${(error as Error).message}`);
    }
    const r = value as Partial<StoredRecord>;
    if (
      typeof r.suite !== 'string' ||
      typeof r.name !== 'string' ||
      typeof r.injected !== 'string' ||
      typeof r.iterations !== 'number' ||
      typeof r.checked !== 'string' ||
      (r.result !== 'passed' && r.result !== 'failed')
    ) {
      throw new Error(`${source} line ${i + 1} is not a reliability record: ${line.slice(0, 200)}`);
    }
    out.push(r as StoredRecord);
  }
  return out;
}

/** Text safe inside a markdown table cell. */
function cell(value: unknown): string {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : typeof value === 'number'
          ? value.toLocaleString('en-US')
          : String(value);
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function table(headers: readonly string[], rows: ReadonlyArray<readonly unknown[]>): string[] {
  const shown = rows.slice(0, detailRowsMax);
  const lines = [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...shown.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
  if (rows.length > shown.length) lines.push('', `(${rows.length - shown.length} more rows in the JSONL)`);
  return lines;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A record's details, whatever their shape: scalars as a list, an array of objects (a matrix, per
 * route counts) as a table with the union of their keys, an object of scalars as a key/value table.
 */
function renderDetails(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const scalars = Object.entries(details).filter(([, v]) => !Array.isArray(v) && !isPlainObject(v));
  if (scalars.length > 0) lines.push(...scalars.map(([k, v]) => `- ${k}: ${cell(v)}`), '');
  for (const [key, value] of Object.entries(details)) {
    if (Array.isArray(value)) {
      if (value.every(isPlainObject) && value.length > 0) {
        const headers = [...new Set(value.flatMap((row) => Object.keys(row)))];
        lines.push(
          `${key}:`,
          '',
          ...table(
            headers,
            value.map((row) => headers.map((h) => row[h])),
          ),
          '',
        );
      } else {
        lines.push(`- ${key}: ${value.map(cell).join(', ')}`, '');
      }
    } else if (isPlainObject(value)) {
      const entries = Object.entries(value);
      if (entries.every(([, v]) => isPlainObject(v))) {
        // A map of rows (route → { tried, 2xx, 4xx }): the keys become the first column.
        const headers = [...new Set(entries.flatMap(([, v]) => Object.keys(v as object)))];
        const rows = entries.map(([k, v]) => [k, ...headers.map((h) => (v as Record<string, unknown>)[h])]);
        lines.push(`${key}:`, '', ...table([key, ...headers], rows), '');
      } else {
        lines.push(`${key}:`, '', ...table([key, 'value'], entries), '');
      }
    }
  }
  return lines;
}

/** The markdown of RELIABILITY.md. */
export function renderReliabilityReport(records: readonly StoredRecord[], run: RunFacts): string {
  const failed = records.filter((r) => r.result === 'failed');
  const load = (xs: readonly number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
  const out: string[] = [
    '# Reliability',
    '',
    `Generated by \`pnpm reliability\` (${run.form} form${run.form === 'long' ? ', FUNDTRACE_LONG=1' : ''}) from the evidence the tests recorded in this run; do not edit by hand.`,
    '',
    `- run: ${run.startedAt} → ${run.finishedAt}`,
    `- machine: ${run.machine.cores} × ${run.machine.cpu}, ${run.machine.memoryGiB} GiB, ${run.machine.os}, Node ${run.machine.node}`,
    `- load average (1/5/15 min): ${load(run.loadAverageStart)} at the start, ${load(run.loadAverageEnd)} at the end (the machine is shared)`,
    `- tests: ${run.testFiles.map((f) => `\`${f}\``).join(', ')}`,
    `- vitest: ${run.vitestExitCode === 0 ? 'every test passed' : `exit code ${run.vitestExitCode}: some tests failed`}`,
    `- records: ${records.length}, ${failed.length} failed`,
    '',
  ];
  if ((run.failedTests ?? []).length > 0) {
    out.push(
      'Tests that failed in this run (they recorded no evidence, so their rows are missing below):',
      '',
      ...run.failedTests!.map((t) => `- ${cell(t)}`),
      '',
    );
  }
  for (const { suite, title, intro } of suites) {
    const ofSuite = records.filter((r) => r.suite === suite);
    out.push(`## ${title}`, '', intro, '');
    if (ofSuite.length === 0) {
      out.push('No test recorded evidence for this section in this run.', '');
      continue;
    }
    out.push(
      ...table(
        ['test', 'injected', 'times', 'checked', 'result'],
        ofSuite.map((r) => [r.name, r.injected, r.iterations, r.checked, r.result]),
      ),
      '',
    );
    for (const r of ofSuite) {
      if (!r.details || Object.keys(r.details).length === 0) continue;
      out.push(`### ${r.name}`, '', ...renderDetails(r.details));
    }
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
