import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One line of evidence for RELIABILITY.md: what a reliability test injected or tried, how many
 * times, what it checked afterwards and what it found. `pnpm reliability` runs the suite and
 * turns these lines into the report, so the figures in RELIABILITY.md always come from a run.
 */
export interface ReliabilityRecord {
  /** `fault`, `bad-input`, `authorization` or `privacy`. */
  suite: 'fault' | 'bad-input' | 'authorization' | 'privacy';
  /** Short name of the test, as a row heading in the report. */
  name: string;
  /** What was injected or sent (e.g. "SIGKILL ledger-api mid 50,000-row roster"). */
  injected: string;
  /** How many times (kills, requests, rows, route × role pairs …). */
  iterations: number;
  /** What was checked afterwards (e.g. "every payment exactly once; books equal a clean run"). */
  checked: string;
  /** `passed` when the checks held; a failing test should record `failed` before it throws. */
  result: 'passed' | 'failed';
  /** Optional figures or a table (e.g. per-route counts, the authorization matrix rows). */
  details?: Record<string, unknown>;
}

/** Where records go: `FUNDTRACE_RELIABILITY_DIR`, or `.data/reliability` under the working directory. */
export function reliabilityDir(): string {
  return process.env.FUNDTRACE_RELIABILITY_DIR ?? join(process.cwd(), '.data', 'reliability');
}

/** Appends one record as a JSON line to `<dir>/<suite>.jsonl` (bigints written as strings). */
export function recordReliability(record: ReliabilityRecord): void {
  const dir = reliabilityDir();
  mkdirSync(dir, { recursive: true });
  const line = JSON.stringify(
    { ...record, at: new Date().toISOString(), long: process.env.FUNDTRACE_LONG === '1' },
    (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
  );
  appendFileSync(join(dir, `${record.suite}.jsonl`), `${line}\n`);
}

/** Iteration count for a reliability loop: `quick` in CI, `long` when FUNDTRACE_LONG=1. */
export function reliabilityIterations(quick: number, long: number): number {
  return process.env.FUNDTRACE_LONG === '1' ? long : quick;
}
