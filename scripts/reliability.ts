// `pnpm reliability` (FUNDTRACE_LONG=1 for the long form): finds or starts PostgreSQL and NATS as
// `npm test` does, runs the reliability tests with a fresh evidence directory, and writes
// RELIABILITY.md from what they recorded. Exits with vitest's code, after writing the report.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { discoverInfrastructure } from '@fundtrace/devstack';
import {
  failedTestsOf,
  parseRecords,
  renderReliabilityReport,
  type StoredRecord,
} from './reliability-report';

const root = join(import.meta.dirname, '..');
/**
 * This run's evidence. Test runs outside `pnpm reliability` (npm test, an engineer's vitest) record
 * into `.data/reliability/` itself; a directory of the run's own keeps their lines out of the report.
 */
const evidenceDir = join(root, '.data', 'reliability', 'run');
/** vitest's JSON report of the run, for the names of the tests that failed. */
const vitestReport = join(evidenceDir, 'vitest.json');

/**
 * Every test that records reliability evidence, in one place: the suite under test/reliability
 * and the fault tests that live beside the code they break.
 */
const reliabilityTestFiles = ['test/reliability/', 'services/projector/test/quarantine.test.ts'] as const;

const long = process.env.FUNDTRACE_LONG === '1';
const startedAt = new Date().toISOString();
const loadAverageStart = loadavg();

const infra = await discoverInfrastructure({
  dataDir: join(root, '.data', 'test'),
  startIfMissing: true,
  log: (line) => console.log(line),
});
for (const note of infra.notes) console.log(note);

rmSync(join(root, '.data', 'reliability'), { recursive: true, force: true });
const vitest = spawn(
  process.execPath,
  [
    join(root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    ...reliabilityTestFiles,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${vitestReport}`,
    ...process.argv.slice(2),
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      DATABASE_URL: infra.databaseServerUrl,
      NATS_URL: infra.natsUrl,
      FUNDTRACE_LONG: long ? '1' : '0',
      FUNDTRACE_RELIABILITY_DIR: evidenceDir,
    },
  },
);
const stopAll = () => vitest.kill('SIGTERM');
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
const code: number = await new Promise((resolve) => vitest.on('exit', (c) => resolve(c ?? 1)));
await infra.stop();

const records: StoredRecord[] = existsSync(evidenceDir)
  ? readdirSync(evidenceDir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => parseRecords(readFileSync(join(evidenceDir, f), 'utf8'), f))
  : [];
const report = renderReliabilityReport(records, {
  startedAt,
  finishedAt: new Date().toISOString(),
  form: long ? 'long' : 'quick',
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
  },
  loadAverageStart,
  loadAverageEnd: loadavg(),
  testFiles: reliabilityTestFiles,
  vitestExitCode: code,
  failedTests: existsSync(vitestReport) ? failedTestsOf(readFileSync(vitestReport, 'utf8'), root) : [],
});
writeFileSync(join(root, 'RELIABILITY.md'), report);
console.log(`RELIABILITY.md written from ${records.length} records (vitest exit code ${code})`);
process.exit(code);
