import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDatabaseServerUrl, defaultNatsUrl } from '@fundtrace/devstack';
import { machineInfo } from './machine';
import { keptHeading, type Machine, markdownReport, terminalReport } from './report';
import { abortRun, type BenchResult, countyHouseholds, isAborting, runBench, targetRosterRows } from './run';
import { repoRoot } from './stack';

/**
 * `pnpm bench`: the whole suite in one process tree and one report. See packages/bench/README.md.
 *
 *   pnpm bench                      default: growth 10 %, 30 %, 100 % of the county (50,000 households)
 *   pnpm bench --quick              a few minutes: 1,500 households, short load phases
 *   pnpm bench --households N       another 100 % size
 */

/** Default 100 % size: the issue's county (50,000 households, two fiscal years, ≈ 954,000 events). */
const defaultHouseholds = countyHouseholds;
const quickHouseholds = 1_500;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    households: { type: 'string' },
    steps: { type: 'string' },
    'baseline-messages': { type: 'string' },
    'roster-rows': { type: 'string' },
    'trace-payments': { type: 'string' },
    seed: { type: 'string', default: '2024' },
    json: { type: 'string' },
    markdown: { type: 'string' },
    'from-json': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`pnpm bench [options]: fundtrace beside the raw limits of NATS and PostgreSQL, one report.

  --scale county          the issue's county: 50,000 households, two fiscal years (the default size)
  --households N          another 100 % size
  --quick                 a few minutes: 1,500 households, short load phases
  --steps F,F,…           growth steps as fractions of the 100 % size (default 0.1,0.3,1)
  --roster-rows N         rows of the measured payment roster (default 50,000)
  --trace-payments N      payments in the books of the trace-at-scale phase (default 1,000,000; 0 skips it)
  --baseline-messages N   messages of the raw NATS/PostgreSQL baselines
  --seed S                data generator seed (default 2024)
  --json FILE             machine report (default BENCHMARKS.json)
  --markdown FILE         human report (default BENCHMARKS.md; sections below the kept heading stay)
  --from-json FILE        redraw the markdown from a saved JSON report, no run
  --no-write              print only; write neither file

See packages/bench/README.md.`);
  process.exit(0);
}

const households =
  values.households !== undefined
    ? Number(values.households)
    : values.scale === 'county'
      ? countyHouseholds
      : values.quick
        ? quickHouseholds
        : defaultHouseholds;
const steps = (values.steps ?? '0.1,0.3,1').split(',').map(Number);
if (!Number.isInteger(households) || households < 10) throw new Error('--households must be an integer ≥ 10');
if (steps.some((s) => !(s > 0 && s <= 1))) throw new Error('--steps are fractions in (0, 1]');

const jsonPath = values.json ?? join(repoRoot, 'BENCHMARKS.json');
const markdownPath = values.markdown ?? join(repoRoot, 'BENCHMARKS.md');

/**
 * BENCHMARKS.md is this run's report, then the hand-written analysis (ANALYSIS.md), then whatever
 * other engineers keep below `keptHeading` (separate measurements of their services), unchanged.
 */
function writeMarkdown(result: BenchResult, machine: Machine, command: string): void {
  const analysisPath = join(import.meta.dirname, '..', 'ANALYSIS.md');
  const analysis = existsSync(analysisPath) ? readFileSync(analysisPath, 'utf8') : '';
  const previous = existsSync(markdownPath) ? readFileSync(markdownPath, 'utf8') : '';
  const at = previous.indexOf(keptHeading);
  const kept = at >= 0 ? previous.slice(at) : '';
  writeFileSync(
    markdownPath,
    `${markdownReport(result, machine, command, analysis)}${kept ? `\n${kept}` : ''}`,
  );
}

const command = `pnpm bench ${process.argv.slice(2).join(' ')}`.trim();

function writeReport(result: BenchResult, machine: Machine): void {
  writeFileSync(jsonPath, `${JSON.stringify({ command, machine, ...result }, null, 2)}\n`);
  writeMarkdown(result, machine, command);
}

// `--from-json FILE`: render BENCHMARKS.md again from a run's JSON (after ANALYSIS.md changed), no run.
if (values['from-json'] !== undefined) {
  const saved = JSON.parse(readFileSync(values['from-json'], 'utf8')) as BenchResult & {
    command: string;
    machine: Machine;
  };
  writeMarkdown(saved, saved.machine, saved.command);
  console.log(`wrote ${markdownPath} from ${values['from-json']}`);
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    console.log(`\n${signal}: stopping the services and removing what this run created`);
    abortRun()
      .then((removed) => console.log(`removed ${removed.length} streams and databases`))
      .catch((error: unknown) => console.error(`cleanup failed: ${String(error)}`))
      .finally(() => process.exit(130));
  });

const tty = process.stdout.isTTY === true;
const loadStart = (await import('node:os')).loadavg();
const started = Date.now();
const result = await runBench({
  households,
  steps,
  baselineMessages: Number(values['baseline-messages'] ?? (values.quick ? 20_000 : 100_000)),
  rosterRows: Number(values['roster-rows'] ?? (values.quick ? 5_000 : targetRosterRows)),
  traceQueries: values.quick ? 100 : 300,
  noticeSeconds: values.quick ? 3 : 10,
  e2eRate: 1_000,
  e2eSeconds: values.quick ? 3 : 10,
  traceScalePayments: Number(values['trace-payments'] ?? (values.quick ? 20_000 : 1_000_000)),
  traceScaleSamples: values.quick ? 200 : 1_000,
  seed: values.seed!,
  natsUrl: process.env.NATS_URL ?? defaultNatsUrl,
  databaseServerUrl: process.env.DATABASE_SERVER_URL ?? defaultDatabaseServerUrl,
  tty,
  log: (line) => console.log(line),
  // Each completed step is written at once: a run cut short keeps what it measured.
  onProgress: (partial) => {
    if (values['no-write']) return;
    void machineInfo(loadStart).then((machine) => writeReport(partial, machine));
  },
}).catch((error: unknown) => {
  // Interrupted: the signal handler is removing what the run created and will exit.
  if (isAborting()) return new Promise<never>(() => undefined);
  throw error;
});
const machine = await machineInfo(loadStart);
console.log(terminalReport(result, machine));
console.log(
  `\nfinished in ${((Date.now() - started) / 60_000).toFixed(1)} min; removed ${result.cleanup.length} streams and databases it created`,
);
if (!values['no-write']) {
  writeReport(result, machine);
  console.log(`wrote ${jsonPath} and ${markdownPath}`);
}
