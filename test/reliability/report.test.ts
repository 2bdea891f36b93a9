import { describe, expect, it } from 'vitest';
import {
  detailRowsMax,
  failedTestsOf,
  parseRecords,
  type RunFacts,
  renderReliabilityReport,
} from '../../scripts/reliability-report';

/** The RELIABILITY.md generator: JSON lines as recordReliability writes them in, markdown out. */

const run: RunFacts = {
  startedAt: '2026-11-22T15:00:00.000Z',
  finishedAt: '2026-11-22T15:04:00.000Z',
  form: 'quick',
  machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 24, os: 'Linux 6.1', node: 'v20.19.0' },
  loadAverageStart: [1.5, 1.25, 1],
  loadAverageEnd: [2, 1.5, 1.125],
  testFiles: ['test/reliability/'],
  vitestExitCode: 0,
};

const lines = [
  {
    suite: 'fault',
    name: 'ledger-api SIGKILL mid roster',
    injected: 'SIGKILL ledger-api during a 50,000-row roster',
    iterations: 1,
    checked: 'every payment exactly once',
    result: 'passed',
    details: { rows: 50000, storedBeforeKill: 12000, partitions: ['411325'] },
    at: '2026-11-22T15:01:00.000Z',
    long: false,
  },
  {
    suite: 'authorization',
    name: 'route × role',
    injected: 'every route with every role',
    iterations: 3,
    checked: 'allow/deny as expected',
    result: 'failed',
    details: {
      matrix: [
        { route: 'POST /payments', role: 'finance', expected: 'allow', actual: 'allow' },
        { route: 'POST /payments', role: 'public', expected: 'deny', actual: 'allow | oops' },
      ],
    },
  },
  {
    suite: 'bad-input',
    name: 'fuzz',
    injected: 'random bodies',
    iterations: 500,
    checked: 'no 5xx',
    result: 'passed',
    details: {
      routes: { 'POST /rosters': { tried: 300, '4xx': 290 }, 'POST /payments': { tried: 200, '4xx': 200 } },
    },
  },
].map((r) => JSON.stringify(r));

describe('renderReliabilityReport', () => {
  it('writes the run facts, one table per suite, and every record with its details', () => {
    const md = renderReliabilityReport(parseRecords(lines.join('\n')), run);
    expect(md).toContain('(quick form)');
    expect(md).toContain('2 × Test CPU, 24 GiB');
    expect(md).toContain('1.50 / 1.25 / 1.00 at the start, 2.00 / 1.50 / 1.13 at the end');
    expect(md).toContain('- records: 3, 1 failed');
    expect(md).toContain(
      '| ledger-api SIGKILL mid roster | SIGKILL ledger-api during a 50,000-row roster | 1 | every payment exactly once | passed |',
    );
    // Scalars as a list, numbers grouped, arrays of scalars joined.
    expect(md).toContain('- rows: 50,000');
    expect(md).toContain('- partitions: 411325');
    // An array of rows is a table; a pipe inside a cell cannot break it.
    expect(md).toContain('| route | role | expected | actual |');
    expect(md).toContain('| POST /payments | public | deny | allow \\| oops |');
    // A map of rows keeps its keys as the first column.
    expect(md).toContain('| routes | tried | 4xx |');
    expect(md).toContain('| POST /rosters | 300 | 290 |');
    expect(md).toContain(
      '| route × role | every route with every role | 3 | allow/deny as expected | failed |',
    );
    // A section nobody recorded says so instead of vanishing.
    expect(md).toMatch(/## Privacy\n\nGreps[^\n]*\n\nNo test recorded evidence/);
    expect(md.indexOf('## Faults')).toBeLessThan(md.indexOf('## Bad input'));
    expect(md.endsWith('\n')).toBe(true);
    expect(md).not.toMatch(/\n{3}/);
  });

  it('says when vitest failed, which tests, and which form ran', () => {
    const vitestJson = JSON.stringify({
      testResults: [
        {
          name: '/repo/test/reliability/fault-a.test.ts',
          status: 'failed',
          assertionResults: [
            { fullName: 'a kills', status: 'failed', failureMessages: ['AssertionError: 1 != 2\n at …'] },
            { fullName: 'a checks', status: 'passed' },
          ],
        },
        {
          name: '/repo/test/reliability/fault-b.test.ts',
          status: 'failed',
          message: 'Hook timed out\n…',
          assertionResults: [],
        },
        { name: '/repo/test/reliability/fault-c.test.ts', status: 'passed', assertionResults: [] },
      ],
    });
    const failedTests = failedTestsOf(vitestJson, '/repo');
    expect(failedTests).toEqual([
      'test/reliability/fault-a.test.ts > a kills: AssertionError: 1 != 2',
      'test/reliability/fault-b.test.ts: Hook timed out',
    ]);
    const md = renderReliabilityReport([], { ...run, form: 'long', vitestExitCode: 1, failedTests });
    expect(md).toContain('(long form, FUNDTRACE_LONG=1)');
    expect(md).toContain('exit code 1: some tests failed');
    expect(md).toContain('- records: 0, 0 failed');
    expect(md).toContain('- test/reliability/fault-b.test.ts: Hook timed out');
  });

  it('cuts long detail tables and says how many rows the JSONL holds beyond them', () => {
    const matrix = Array.from({ length: detailRowsMax + 5 }, (_, i) => ({ route: `r${i}`, role: 'x' }));
    const record = {
      suite: 'authorization',
      name: 'm',
      injected: 'i',
      iterations: 1,
      checked: 'c',
      result: 'passed',
      details: { matrix },
    };
    const md = renderReliabilityReport(parseRecords(JSON.stringify(record)), run);
    expect(md).toContain(`| r${detailRowsMax - 1} | x |`);
    expect(md).not.toContain(`| r${detailRowsMax} | x |`);
    expect(md).toContain('(5 more rows in the JSONL)');
  });

  it('refuses a line that is not a record, naming the file and line', () => {
    expect(() => parseRecords('{"suite":"fault"}\n', 'fault.jsonl')).toThrow(
      'fault.jsonl line 1 is not a reliability record',
    );
    expect(() => parseRecords('\nnot json', 'x.jsonl')).toThrow('x.jsonl line 2 is not JSON');
  });
});
